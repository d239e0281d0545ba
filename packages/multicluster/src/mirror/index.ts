// Service mirroring: what the mirrors of a Link should be, the writes that get there, the controller.
export {
  desiredMirrors,
  federatedMemberRef,
  federatedServiceName,
  gatewayEndpointPorts,
  mirrorPorts,
  mirrorServiceName,
  remoteNameOf,
  remoteServiceFqName,
  type DesiredMirror,
  type DesiredState,
  type FederatedMember,
  type GatewayState,
  type MirrorMode,
  type RemoteView,
  type SelectedService,
} from './desired-mirrors.js';
export {
  linkStatus,
  SERVICE_MIRROR_CONTROLLER,
  type LinkStatus,
  type MirrorStatusEntry,
} from './link-status.js';
export {
  federatedMembers,
  planChanges,
  sameMirrorEndpoints,
  sameMirrorService,
  type LocalView,
  type MirrorChange,
  type ObjectKindName,
} from './plan-changes.js';
export {
  EndpointsKind,
  type EndpointAddress,
  type EndpointPort,
  type EndpointsObject,
  type EndpointSubset,
  type ServiceObject,
  type ServicePort,
} from './kube-types.js';
export {
  applyMirrorChanges,
  listLocalMirrors,
  removeLinkMirrors,
  ServiceMirror,
  type ServiceMirrorOptions,
  type ServiceMirrorPhase,
} from './service-mirror.js';
