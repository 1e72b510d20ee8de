// class-transformer keeps `@Type`'s metadata in a storage that its index does not export; the
// module is public JavaScript (class-validator-jsonschema's README imports it) without a typing
// of its own at this path, so it is typed here with the package's own MetadataStorage.
declare module 'class-transformer/cjs/storage' {
  import type { MetadataStorage } from 'class-transformer/types/MetadataStorage';

  export const defaultMetadataStorage: MetadataStorage;
}
