// The Link resource: parsing, validation and Linkerd's defaults.
export { LinkDefaults, matchesKeyPattern, parseLink, type Link, type ProbeSpec } from './link-spec.js';
