export {
  configureFirewall,
  execRunner,
  type CommandRunner,
  type ConfigureOptions,
  type FamilyResult,
} from './configure-firewall.js';
export {
  buildFirewallCommands,
  firewallBinaries,
  formatCommand,
  hasProxyInitRules,
  multiportGroups,
  MULTIPORT_LIMIT,
  OUTPUT_CHAIN,
  REDIRECT_CHAIN,
  type BuildOptions,
  type FirewallBinaries,
  type FirewallCommand,
  type IpFamily,
} from './firewall-rules.js';
export {
  INIT_DEFAULTS,
  parseInitArgs,
  parsePortRange,
  type InitOptions,
  type IptablesMode,
  type PortRange,
} from './init-options.js';
