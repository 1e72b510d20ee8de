import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, IS_ISO8601, ValidationTypes } from 'class-validator';
import { targetConstructorToSchema } from 'class-validator-jsonschema';

/** A JSON Schema object, as class-validator-jsonschema writes it (draft 7 with `$ref`s to other classes). */
export type JsonSchema = Record<string, unknown>;

/** A class whose instances class-validator validates: a request DTO, a response class. */
type ValidatedClass = abstract new (...args: never[]) => unknown;

/** Where the schemas of classes are, in an AsyncAPI document: `$ref`s point there. */
export const SCHEMA_REF_PREFIX = '#/components/schemas/';

const OPTIONS = {
  refPointerPrefix: SCHEMA_REF_PREFIX,
  // `@Type(() => X)` names the class of a nested field (an array's design type is `Array`).
  classTransformerMetadataStorage: defaultMetadataStorage,
  additionalConverters: {
    // The default is `oneOf` date / date-time, which a validator that treats `format` as an
    // annotation (JSON Schema's default) rejects for every string: both branches match.
    [IS_ISO8601]: { type: 'string' as const, anyOf: [{ format: 'date-time' }, { format: 'date' }] },
  },
};
// Custom decorators need no converter of their own when they register the constraint name of the
// class-validator rule they stand for: `MaxTextLength` registers `maxLength` (MAX_LENGTH), so it
// converts as `MaxLength` does, `each` included (asyncapi-document.spec.ts checks it).

function metadataOf(type: ValidatedClass): ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']> {
  return getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
}

/**
 * The class a class's schema is named after: the class itself, or the nearest ancestor that has
 * rules of its own when it only narrows a generic one (`hello`'s response class extends
 * `HelloResponseDto` with the pattern names, which are types only), as class-validator-jsonschema names it.
 */
function schemaOwnerOf(type: ValidatedClass): ValidatedClass {
  const targets = new Set<unknown>(metadataOf(type).map(({ target }) => target));
  for (let current: unknown = type; typeof current === 'function' && current.name !== ''; current = Object.getPrototypeOf(current)) {
    if (targets.has(current)) {
      return current as ValidatedClass;
    }
  }
  throw new Error(`${type.name} has no class-validator rules: it cannot have a schema`);
}

/** The classes of a class's nested fields (`@ValidateNested()` with `@Type(() => X)`). */
function nestedClassesOf(type: ValidatedClass): ValidatedClass[] {
  return metadataOf(type)
    .filter(({ type: kind }) => kind === ValidationTypes.NESTED_VALIDATION)
    .map(({ target, propertyName }) => {
      const typeMetadata = defaultMetadataStorage.findTypeMetadata(target as new () => unknown, propertyName);
      if (typeMetadata === undefined) {
        throw new Error(`${type.name}.${propertyName} is validated nested without @Type(() => Class): its schema would name no class`);
      }
      return typeMetadata.typeFunction() as ValidatedClass;
    });
}

/**
 * JSON Schemas of classes from their class-validator rules (class-validator-jsonschema), with the
 * classes of their nested fields: `names` gives each root class's schema name, `schemas` every
 * schema by name, sorted. Every schema forbids properties it does not list, as the server does
 * (`whitelist` and `forbidNonWhitelisted`, for requests and for responses).
 */
export function schemasOf(roots: readonly ValidatedClass[]): { names: Map<ValidatedClass, string>; schemas: Record<string, JsonSchema> } {
  const names = new Map<ValidatedClass, string>();
  const owners = new Map<string, ValidatedClass>();
  const schemas = new Map<string, JsonSchema>();
  const pending = [...roots];
  for (let type = pending.shift(); type !== undefined; type = pending.shift()) {
    const owner = schemaOwnerOf(type);
    names.set(type, owner.name);
    const known = owners.get(owner.name);
    if (known !== undefined) {
      if (known !== owner) {
        throw new Error(`two classes named ${owner.name} have rules: their schemas would share one name`);
      }
      continue;
    }
    owners.set(owner.name, owner);
    schemas.set(owner.name, { ...(targetConstructorToSchema(owner, OPTIONS) as JsonSchema), additionalProperties: false });
    pending.push(...nestedClassesOf(owner));
  }
  const sorted = [...schemas.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return { names, schemas: Object.fromEntries(sorted) };
}
