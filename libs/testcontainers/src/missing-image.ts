import { describeError } from '@echo-pair/common';
import { getContainerRuntimeClient, type ImageName } from 'testcontainers';

/** How to build the image that `image` names, for an error message. */
export function buildHint(image: string): string {
  return `build it first: \`docker build --target echo-server -t ${image} .\` in the echo-pair repository (see docs/testcontainers.md)`;
}

/** Whether the engine has `image`; undefined when it cannot tell (no engine). */
export async function imageIsLocal(image: ImageName): Promise<boolean | undefined> {
  try {
    return await (await getContainerRuntimeClient()).image.exists(image);
  } catch {
    return undefined;
  }
}

/** `error` of a failed start, explained when the cause is that the image is neither local nor pullable. */
export async function explainStartFailure(image: ImageName, error: unknown): Promise<unknown> {
  if ((await imageIsLocal(image)) !== false) {
    return error;
  }
  return new Error(
    `the image ${image.string} is not on this Docker engine and could not be pulled (${describeError(error)}): ${buildHint(image.string)}`,
    {
      cause: error,
    },
  );
}
