/**
 * The two fields the tap adds to every record so that it names one row exactly, whatever the row
 * holds (export rows carry no unique id): where the row came from, and its 0-based position there.
 * A target can upsert on them, so a re-run never duplicates rows downstream.
 *
 * - Data Export bundles: the bundle's Id and the event's index in the bundle.
 * - Segment Export: the export window's start and the row's index in the window's file. Windows
 *   never overlap and a window is always cut the same way, so the pair is stable across runs.
 */
import type { JsonSchema } from '@fullstory-singer/singer-core';

/** The names and types of a source's two key fields. */
export interface KeyFields {
  /** Where the row came from: a bundle id, a window start. */
  id: string;
  /** The row's 0-based position there. */
  index: string;
  /** Their JSON Schemas, in that order. */
  schemas: readonly [JsonSchema, JsonSchema];
}

export const BUNDLE_KEYS: KeyFields = {
  id: '_sdc_bundle_id',
  index: '_sdc_bundle_index',
  schemas: [
    { type: 'integer', description: "Id of the export bundle this event came from (with _sdc_bundle_index, the record's key)." },
    { type: 'integer', minimum: 0, description: '0-based position of the event in its bundle.' },
  ],
};

export const WINDOW_KEYS: KeyFields = {
  id: '_sdc_window_start',
  index: '_sdc_window_index',
  schemas: [
    { type: 'string', format: 'date-time', description: 'Start of the Segment Export window this row came from (with _sdc_window_index, the row key).' },
    { type: 'integer', minimum: 0, description: "0-based position of the row in its window's export file." },
  ],
};

/** `schema` with the key fields first among its properties, and required. */
export function withKeyFields(schema: JsonSchema, keys: KeyFields): JsonSchema {
  const properties = (schema['properties'] ?? {}) as Record<string, unknown>;
  const required = Array.isArray(schema['required']) ? (schema['required'] as string[]) : [];
  return {
    ...schema,
    properties: { [keys.id]: keys.schemas[0], [keys.index]: keys.schemas[1], ...properties },
    required: [keys.id, keys.index, ...required.filter((f) => f !== keys.id && f !== keys.index)],
  };
}
