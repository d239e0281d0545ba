export { connectTcp, type ConnectOptions } from './connect.js';
export { bindListener, type BindOptions, type ListenAddr, type Listener } from './listener.js';
export { isOriginalDstAvailable, isSelfTarget, readOriginalDst, type OriginalDst } from './original-dst.js';
export { forwardTcp, type ForwardResult } from './tcp-forward.js';
