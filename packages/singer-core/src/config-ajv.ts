/**
 * Compiles a settings schema with ajv when no validator was compiled ahead of time. A module of
 * its own so that ajv (and its compiler) is loaded only by a caller that needs it.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { JsonSchema } from './messages.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import may be the
// module object or the plugin itself depending on the loader, so accept both.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats: FormatsPlugin =
  (addFormatsImport as unknown as { default?: FormatsPlugin }).default ?? (addFormatsImport as unknown as FormatsPlugin);

/**
 * The options every settings schema is compiled with, here and by the build's code generation.
 * strict: false tolerates annotation keywords such as `secret: true` in settings schemas;
 * useDefaults fills `default`s so callers see one complete config; verbose gives each error its
 * parent schema, whose `properties` are the keys a typo may have meant, at any depth.
 */
export const CONFIG_AJV_OPTIONS = { allErrors: true, strict: false, useDefaults: true, verbose: true } as const;

let sharedAjv: Ajv | undefined;
const validators = new WeakMap<JsonSchema, ValidateFunction>();

/**
 * One compiled validator per schema. Cached by object, and also by `$id`: ajv refuses to compile a
 * second schema with an `$id` it already holds, and a caller that loads the same schema file twice
 * gets two equal objects. A different schema under a known `$id` replaces the old one.
 */
export function validatorFor(schema: JsonSchema): ValidateFunction {
  let validate = validators.get(schema);
  if (validate) return validate;
  const ajv = (sharedAjv ??= addFormats(new Ajv(CONFIG_AJV_OPTIONS)));
  const id = typeof schema.$id === 'string' ? schema.$id : undefined;
  const known = id === undefined ? undefined : ajv.getSchema(id);
  if (known && JSON.stringify(known.schema) === JSON.stringify(schema)) {
    validate = known;
  } else {
    if (known) ajv.removeSchema(id);
    validate = ajv.compile(schema);
  }
  validators.set(schema, validate);
  return validate;
}
