export function openLocalBackend(_o: { path: string }): never {
  throw new Error('x');
}
