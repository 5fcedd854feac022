/** A hyparquet DataReader over encoded bytes: the tests decode with an independent reader. */
export const readerOf = (bytes: Uint8Array): { view: DataView; offset: number } => ({
  view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  offset: 0,
})
