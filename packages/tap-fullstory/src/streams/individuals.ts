/**
 * The `individuals` stream (Segment Export only): one row per individual active in a window
 * (`TYPE_INDIVIDUAL`, https://developer.fullstory.com/server/v1/segments/create-segment-export). Its
 * counts are lifetime totals, so the same individual comes back with newer values in every window
 * where it was active: an upsert stream keyed by `IndvId`, not an append stream.
 */
import { WINDOW_KEYS } from './key-fields.js';
import type { SegmentStreamDefinition } from './types.js';

export const individuals: SegmentStreamDefinition = {
  name: 'individuals',
  source: 'segment_export',
  schemaFile: 'streams/individuals.json',
  keys: WINDOW_KEYS,
  keyProperties: ['IndvId'],
  automaticFields: ['IndvId'],
  exportType: 'TYPE_INDIVIDUAL',
  customVariables: ['user_*'],
};
