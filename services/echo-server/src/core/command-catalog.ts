/** What other layers may know of the commands: their names (the text door's welcome lists them). */
export interface CommandCatalog {
  names(): readonly string[];
}

/** Provided by the command pattern's module (its registry); injected by whoever lists commands. */
export const COMMAND_CATALOG = Symbol('COMMAND_CATALOG');
