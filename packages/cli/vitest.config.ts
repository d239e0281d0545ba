import { tsmeshProject } from '../../vitest.shared.ts';

// Most cli tests run the real CLI as a process against real servers (kube-apiserver, proxies);
// 20 s was too short for some of them on a loaded 2-core machine.
export default tsmeshProject('cli', { testTimeout: 60_000 });
