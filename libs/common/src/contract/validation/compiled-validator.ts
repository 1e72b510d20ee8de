import {
  getMetadataStorage,
  type MetadataStorage,
  validateSync,
  ValidationTypes,
  type ValidationArguments,
  type ValidationError,
  type ValidatorConstraintInterface,
  type ValidatorOptions,
} from 'class-validator';

/**
 * class-validator's `validateSync(entity, options)` for the instances of one class, with the
 * class's metadata read once instead of per call: `check` runs the same constraint validators in
 * the same order with the same arguments, and `validate` returns `[]` when they all pass, else what
 * `validateSync` itself returns. Why and how it is kept equal: docs/performance.md.
 */
export interface CompiledValidator {
  /** What `validateSync(entity, options)` returns. */
  validate(entity: object): ValidationError[];
  /** Whether `validateSync(entity, options)` would return no error, without building any. */
  check(entity: object): boolean;
}

/** A class whose instances class-validator validates (Nest's `Type`, a DTO class). */
export type ValidatedClass = abstract new (...args: never[]) => unknown;

/** class-validator's metadata of one decorator (its type is not exported from the package's index). */
type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

/** One constraint of a property: the validator instance and the arguments class-validator passes it. */
interface CompiledConstraint {
  readonly instance: ValidatorConstraintInterface;
  readonly metadata: ValidationMetadata;
  readonly each: boolean;
}

/** One property, as class-validator's `performValidations` handles it. */
interface CompiledProperty {
  readonly name: string;
  readonly conditions: readonly ((object: object, value: unknown) => unknown)[];
  /** `@IsDefined` constraints: they run even where missing properties are skipped. */
  readonly defined: readonly CompiledConstraint[];
  readonly custom: readonly CompiledConstraint[];
}

/** The verdict of a constraint that returned a promise: only class-validator itself can tell. */
const UNDECIDED = Symbol('undecided');

const SUPPORTED_TYPES: ReadonlySet<string> = new Set([
  ValidationTypes.CUSTOM_VALIDATION,
  ValidationTypes.CONDITIONAL_VALIDATION,
  ValidationTypes.WHITELIST,
  ValidationTypes.IS_DEFINED,
]);

/** `validateSync(entity)` without options. */
const NO_OPTIONS: ValidatorOptions = {};

/** Per class, per options object: the compiled validator, or null where the class cannot be compiled. */
const compiled = new WeakMap<ValidatedClass, WeakMap<ValidatorOptions, CompiledValidator | null>>();

/**
 * The compiled validator of `target` for `options` (compiled once per class and options
 * object: pass the same object each call), or `undefined` when the class uses what is not
 * compiled (nested or promise validation): then call `validateSync`.
 *
 * Constraint instances are resolved when the class is compiled; class-validator's default
 * container keeps one instance per constraint class, so they are the instances it would use.
 */
export function compiledValidatorFor(target: ValidatedClass, options: ValidatorOptions = NO_OPTIONS): CompiledValidator | undefined {
  let byOptions = compiled.get(target);
  if (byOptions === undefined) {
    byOptions = new WeakMap();
    compiled.set(target, byOptions);
  }
  let validator = byOptions.get(options);
  if (validator === undefined) {
    validator = compile(target, options) ?? null;
    byOptions.set(options, validator);
  }
  return validator ?? undefined;
}

function compile(target: ValidatedClass, options: ValidatorOptions): CompiledValidator | undefined {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(
    target,
    undefined as unknown as string, // validateSync(object, options) passes no schema
    options.always ?? false,
    options.strictGroups ?? false,
    options.groups,
  );
  if (metadatas.some((metadata) => !SUPPORTED_TYPES.has(metadata.type))) {
    return undefined;
  }
  const forbidUnknownValues = options.forbidUnknownValues === undefined || options.forbidUnknownValues !== false;
  const whitelist = options.whitelist === true;
  const forbidNonWhitelisted = options.forbidNonWhitelisted === true;
  const grouped = storage.groupByPropertyName(metadatas);
  const allowed = new Set(Object.keys(grouped).filter((name) => grouped[name].length > 0));
  const constraintsOf = (list: ValidationMetadata[]): CompiledConstraint[] =>
    list.flatMap((metadata) =>
      storage
        .getTargetValidatorConstraints(metadata.constraintCls)
        .filter((constraint) => !constraint.async) // validateSync skips async constraints
        .map((constraint) => ({ instance: constraint.instance, metadata, each: metadata.each === true })),
    );
  const properties: CompiledProperty[] = Object.keys(grouped).map((name) => {
    const list = grouped[name];
    const rest = list.filter((metadata) => metadata.type !== ValidationTypes.IS_DEFINED && metadata.type !== ValidationTypes.WHITELIST);
    return {
      name,
      conditions: rest
        .filter((metadata) => metadata.type === ValidationTypes.CONDITIONAL_VALIDATION)
        .map((metadata) => metadata.constraints[0] as (object: object, value: unknown) => unknown),
      defined: constraintsOf(list.filter((metadata) => metadata.type === ValidationTypes.IS_DEFINED)),
      custom: constraintsOf(rest.filter((metadata) => metadata.type === ValidationTypes.CUSTOM_VALIDATION)),
    };
  });
  const { skipUndefinedProperties, skipNullProperties, skipMissingProperties } = options;
  const noMetadata = metadatas.length === 0;

  /**
   * True, false, or UNDECIDED. A constraint that returns false always leaves a violation in
   * class-validator's result, so the first one decides; a whitelist without
   * `forbidNonWhitelisted` strips the properties it does not know, as class-validator does.
   */
  const verdict = (entity: object): boolean | typeof UNDECIDED => {
    if (noMetadata && forbidUnknownValues) {
      return false;
    }
    if (whitelist) {
      for (const key of Object.keys(entity)) {
        if (!allowed.has(key)) {
          if (forbidNonWhitelisted) {
            return false;
          }
          delete (entity as Record<string, unknown>)[key];
        }
      }
    }
    for (const property of properties) {
      const value = (entity as Record<string, unknown>)[property.name];
      // Every condition is called, then their results are and-ed, as class-validator does.
      let canValidate: unknown = true;
      for (const condition of property.conditions) {
        const result = condition(entity, value);
        canValidate = canValidate && result;
      }
      if (!canValidate) {
        continue;
      }
      const defined = passes(property.defined, entity, value);
      if (defined !== true) {
        return defined;
      }
      if (
        (value === undefined && skipUndefinedProperties === true) ||
        (value === null && skipNullProperties === true) ||
        ((value === null || value === undefined) && skipMissingProperties === true)
      ) {
        continue;
      }
      const custom = passes(property.custom, entity, value);
      if (custom !== true) {
        return custom;
      }
    }
    return true;
  };

  // class-validator looks the metadata up by `entity.constructor`: anything but an instance of
  // `target` itself (a subclass, an own `constructor` property) is left to it.
  const ofTarget = (entity: object): boolean =>
    (entity as { constructor?: unknown }).constructor === target && Object.getPrototypeOf(entity) === target.prototype;
  return {
    check: (entity) => {
      const result = ofTarget(entity) ? verdict(entity) : UNDECIDED;
      return result === UNDECIDED ? validateSync(entity, options).length === 0 : result;
    },
    validate: (entity) => (ofTarget(entity) && verdict(entity) === true ? [] : validateSync(entity, options)),
  };
}

/** Runs the constraints as class-validator's `customValidations` does: true if all pass, false at the first that fails. */
function passes(constraints: readonly CompiledConstraint[], object: object, value: unknown): boolean | typeof UNDECIDED {
  for (const { instance, metadata, each } of constraints) {
    if (metadata.validateIf !== undefined && !metadata.validateIf(object, value)) {
      continue;
    }
    const args: ValidationArguments = {
      targetName: object.constructor ? object.constructor.name : (undefined as unknown as string),
      property: metadata.propertyName,
      object,
      value,
      constraints: metadata.constraints,
    };
    if (!each || !(Array.isArray(value) || value instanceof Set || value instanceof Map)) {
      const result = instance.validate(value, args);
      if (isPromise(result)) {
        return UNDECIDED;
      }
      if (!result) {
        return false;
      }
      continue;
    }
    // Every item is validated, as class-validator does (no short cut), with the same arguments.
    const items: unknown[] = value instanceof Map ? Array.from(value.values()) : Array.isArray(value) ? value : Array.from(value);
    let all = true;
    for (const item of items) {
      const result = instance.validate(item, args);
      if (isPromise(result)) {
        return UNDECIDED;
      }
      all = all && Boolean(result);
    }
    if (!all) {
      return false;
    }
  }
  return true;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}
