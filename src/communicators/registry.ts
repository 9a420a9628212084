/**
 * The communicators by type name (the `communicator` attribute of a source; Packer's default is
 * "ssh"). A caller passes a definition's `prepare` result back to the same definition's `connect`.
 */
import { Registry } from '../sdk/registry.js';
import type { CommunicatorDef } from '../sdk/component.js';
import { noneCommunicator } from './none.js';
import { sshCommunicator } from './ssh.js';

export const communicators = new Registry<CommunicatorDef>('communicator', [noneCommunicator, sshCommunicator]);
