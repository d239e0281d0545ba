import { tsmeshProject } from '../../vitest.shared.ts';

export default tsmeshProject('cli');
