export {
  describeFailure,
  runControllerMain,
  untilAborted,
  type ControllerContext,
  type ControllerMain,
} from './run-controller.js';
