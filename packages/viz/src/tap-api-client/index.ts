export {
  createKubeApiTapHandler,
  createKubeApiTapService,
  tapApiPath,
  tapThroughKubeApi,
  type KubeApiAccess,
  type KubeApiTapOptions,
} from './tap-api-client.js';
