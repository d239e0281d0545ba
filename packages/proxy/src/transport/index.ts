export { connectTcp, type ConnectOptions } from './connect.js';
export { bindListener, type BindOptions, type ListenAddr, type Listener } from './listener.js';
export { isOriginalDstAvailable, isSelfTarget, readOriginalDst, type OriginalDst } from './original-dst.js';
export { createReplayStream } from './replay-stream.js';
export { onSocketClose } from './socket-metrics.js';
export { forwardTcp, type ForwardResult } from './tcp-forward.js';
