export { formatPeer } from '@echo-pair/common';
