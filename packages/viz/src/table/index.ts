export {
  formatAuthzTable,
  formatEdgesTable,
  formatRoutesTable,
  formatStatTable,
  formatTable,
  type Cell,
  type StatTableOptions,
} from './format-tables.js';
