// Watchers: cluster state through an ObjectSource, and the views streams follow.
export {
  ClusterState,
  podIps,
  WATCHED_KINDS,
  type ChangedNamespaces,
  type ClusterStateOptions,
  type RemoteClusterLookup,
  type RemoteClusterView,
} from './cluster-state.js';
export {
  RemoteClusters,
  secretRemoteClusterDiscovery,
  type RemoteClusterDiscovery,
  type RemoteClusterSpec,
  type RemoteClustersOptions,
  type SecretRemoteClusterDiscoveryOptions,
} from './remote-clusters.js';
export { remoteMembersOf, type RemoteMember, type RemoteMembers } from './remote-endpoint-views.js';
export { Topics, type TopicLease } from './topics.js';
export {
  ipAddress,
  ipView,
  nodeZone,
  podAddress,
  podForIp,
  sameEndpointView,
  serverMarksOpaque,
  serviceTargetPort,
  serviceView,
  type ServiceTarget,
  type ViewConfig,
} from './endpoint-views.js';
export {
  endpointProfileView,
  sameProfile,
  serviceOpaque,
  serviceProfileView,
  type Profile,
  type ProfileConfig,
  type ServiceProfileTarget,
} from './profile-views.js';
