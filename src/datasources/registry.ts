/** The data sources by type name (`data "TYPE" "NAME"`). `hcp-packer-*` types are refused with
 * their own message when a template uses them (src/template/data.ts). */
import { Registry } from '../sdk/registry.js';
import type { DataSourceDef } from '../sdk/component.js';
import { httpDataSource } from './http.js';
import { nullDataSource } from './null.js';

export const dataSources = new Registry<DataSourceDef<unknown>>('data source', [nullDataSource as DataSourceDef<unknown>, httpDataSource as DataSourceDef<unknown>]);
