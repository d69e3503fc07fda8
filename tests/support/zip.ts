import { inflateRawSync } from 'node:zlib'

interface CentralEntry {
  name: string
  /** 0: stored; 8: deflated. */
  method: number
  compressedSize: number
  /** Offset of the entry's local header. */
  local: number
}

/** The entries of a zip archive, read from its central directory. */
function centralDirectory(zip: Buffer): CentralEntry[] {
  const END_OF_CENTRAL_DIRECTORY = 0x06054b50
  const CENTRAL_FILE_HEADER = 0x02014b50
  let end = zip.length - 22
  while (end >= 0 && zip.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end -= 1
  if (end < 0) throw new Error('not a zip archive')
  const count = zip.readUInt16LE(end + 10)
  let offset = zip.readUInt32LE(end + 16)
  const entries: CentralEntry[] = []
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) throw new Error('corrupt zip central directory')
    const nameLength = zip.readUInt16LE(offset + 28)
    const extraLength = zip.readUInt16LE(offset + 30)
    const commentLength = zip.readUInt16LE(offset + 32)
    entries.push({
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
      method: zip.readUInt16LE(offset + 10),
      compressedSize: zip.readUInt32LE(offset + 20),
      local: zip.readUInt32LE(offset + 42),
    })
    offset += 46 + nameLength + extraLength + commentLength
  }
  return entries
}

/** The file names in a zip archive (enough to check what osls packed). */
export function zipEntries(zip: Buffer): string[] {
  return centralDirectory(zip).map((entry) => entry.name)
}

/** One file's content from a zip archive (stored or deflated). */
export function zipEntry(zip: Buffer, wanted: string): Buffer {
  const entry = centralDirectory(zip).find((e) => e.name === wanted)
  if (!entry) throw new Error(`${wanted} is not in the archive`)
  const start = entry.local + 30 + zip.readUInt16LE(entry.local + 26) + zip.readUInt16LE(entry.local + 28)
  const data = zip.subarray(start, start + entry.compressedSize)
  return entry.method === 0 ? Buffer.from(data) : inflateRawSync(data)
}
