/** The provisioners by type name. */
import { Registry } from '../sdk/registry.js';
import type { ProvisionerDef } from '../sdk/component.js';
import { breakpointProvisioner } from './breakpoint.js';
import { fileProvisioner } from './file.js';
import { shellProvisioner } from './shell.js';
import { shellLocalProvisioner } from './shell-local.js';

export const provisioners = new Registry<ProvisionerDef<unknown>>('provisioner', [shellLocalProvisioner, shellProvisioner, fileProvisioner, breakpointProvisioner]);
