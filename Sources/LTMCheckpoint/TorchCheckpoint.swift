import Foundation
import LTMProcessLimits
import ZIPFoundation

/// A value decoded from a `torch.save` pickle: tensors and plain containers only.
public indirect enum PickleValue: Sendable {
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case list([PickleValue])
  case tuple([PickleValue])
  /// Keys in insertion order (dicts and `OrderedDict`s).
  case dict([(key: PickleValue, value: PickleValue)])
  case tensor(RawTensor)
  /// An instance of a class outside the allow-list, read with `opaqueGlobals` only (e.g. OmegaConf's DictConfig in
  /// a Lightning checkpoint's `hyper_parameters`): the class name and its pickled state (BUILD), never executed.
  /// A bare class reference, or a reference back to an enclosing instance, has no state.
  case object(type: String, state: PickleValue?)
}

/// `torch.save` zip checkpoints (`.pt`, `.pth`, `pytorch_model.bin`).
///
/// Since torch 1.6 a checkpoint is a zip archive: `<name>/data.pkl` (the pickled object), `<name>/data/<key>` (one
/// raw little-endian entry per storage), `<name>/byteorder`, `<name>/version` and/or `<name>/.format_version`.
/// The pickle is decoded by the restricted `Unpickler`, which refuses every global except the tensor rebuild
/// functions, storage classes and `OrderedDict`, and never executes anything; storages are read (and their CRC-32
/// checked) only when the pickle refers to them.
public enum TorchCheckpoint {
  /// The largest `data.pkl` accepted. Pickles hold structure, not tensor data: even huge models need a few MB.
  public static let maxPickleSize = 1 << 30

  /// Decodes the pickle of a torch.save archive, refusing every global that is not a tensor rebuild or a plain
  /// container. Storage CRC-32s are verified.
  public static func load(_ url: URL) throws -> PickleValue {
    try load(url, verifyChecksums: true)
  }

  /// As `load(_:)`; `verifyChecksums: false` skips the CRC-32 of each entry (faster on multi-GB files whose
  /// integrity is established some other way).
  /// `opaqueGlobals`: keep instances of unknown classes as `.object` records instead of refusing the file (Lightning
  /// checkpoints); tensor rebuild functions outside the allow-list are refused either way.
  public static func load(_ url: URL, verifyChecksums: Bool, opaqueGlobals: Bool = false) throws -> PickleValue {
    let path = url.path
    try rejectLegacyFormat(url)
    let archive: Archive
    do {
      archive = try Archive(url: url, accessMode: .read)
    } catch {
      throw CheckpointError.unreadable(path: path, reason: "not a zip archive (\(error))")
    }
    var entries: [String: Entry] = [:]
    for entry in archive where entry.type == .file { entries[entry.path] = entry }

    // The one top-level `<name>/data.pkl` fixes the record prefix.
    let pickles = entries.keys.filter { $0.hasSuffix("/data.pkl") && $0.split(separator: "/", omittingEmptySubsequences: false).count == 2 }
    guard pickles.count == 1, let pickleName = pickles.first else {
      throw CheckpointError.unreadable(
        path: path,
        reason: pickles.isEmpty
          ? "no <name>/data.pkl entry: not a torch.save archive" : "several data.pkl entries (\(pickles.sorted().joined(separator: ", ")))")
    }
    let prefix = String(pickleName.dropLast("/data.pkl".count))

    func read(_ entry: Entry, limit: Int) throws -> Data {
      try extract(entry, from: archive, path: path, limit: limit, verify: verifyChecksums)
    }

    if let entry = entries["\(prefix)/byteorder"] {
      let order = String(decoding: try read(entry, limit: 64), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      guard order == "little" else {
        throw CheckpointError.unreadable(path: path, reason: "byteorder is \"\(order)\"; only little-endian checkpoints are supported")
      }
    }
    let versionEntries = ["version", ".data/version", ".format_version"].compactMap { entries["\(prefix)/\($0)"] }
    guard !versionEntries.isEmpty else {
      throw CheckpointError.unreadable(path: path, reason: "no \(prefix)/version or \(prefix)/.format_version entry: not a torch.save archive")
    }
    for entry in versionEntries {
      let text = String(decoding: try read(entry, limit: 64), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      guard Int(text) != nil else {
        throw CheckpointError.unreadable(path: path, reason: "\(entry.path) holds \"\(text)\", not a version number")
      }
    }

    let pickle = try read(entries[pickleName]!, limit: maxPickleSize)
    var storageBytes = 0
    for (name, entry) in entries where name.hasPrefix("\(prefix)/data/") {
      let (sum, overflow) = storageBytes.addingReportingOverflow(Int(clamping: entry.uncompressedSize))
      storageBytes = overflow ? .max : sum
    }
    // The storages are read into memory: refuse an archive that could not be held before reading any of it.
    let limit = try UsableMemory.limit()
    guard UInt64(storageBytes) <= limit.bytes else {
      throw CheckpointError.exceedsMemory(model: path, what: "its tensor storages", estimatedBytes: UInt64(storageBytes), limit: limit)
    }

    var unpickler = Unpickler(
      [UInt8](pickle), path: path, materializeLimit: max(1 << 30, 4 * storageBytes)
    ) { request in
      let name = "\(prefix)/data/\(request.key)"
      guard let entry = entries[name] else {
        throw CheckpointError.malformedPickle(
          path: path, reason: "persistent id refers to storage '\(request.key)', but the archive has no entry \(name)")
      }
      // The unpickler has checked that this product cannot overflow.
      let expected = request.numel * request.dtype.byteSize
      guard entry.uncompressedSize == UInt64(expected) else {
        throw CheckpointError.badTensor(
          path: path, tensor: "storage \(request.key)",
          reason: "entry \(name) holds \(entry.uncompressedSize) bytes, but its persistent id declares "
            + "\(request.numel) × \(request.storageClass) (\(expected) bytes)")
      }
      return try read(entry, limit: expected)
    }
    unpickler.opaqueGlobals = opaqueGlobals
    return try unpickler.load()
  }

  /// Loads a state dict of tensors as a `TensorArchive` (`files` = `[url]`).
  ///
  /// - Parameter key: the top-level entry holding the state dict (`"model"` in the LTM authors' checkpoints). When
  ///   nil: the top level itself if it is a dict of tensors (`pytorch_model.bin`), else its `"model"` or
  ///   `"state_dict"` entry.
  public static func loadStateDict(_ url: URL, key: String? = nil) throws -> TensorArchive {
    let root = try load(url)
    let stateDict: PickleValue
    if let key {
      guard let entry = root[key] else {
        throw CheckpointError.unreadable(path: url.path, reason: "the checkpoint has no top-level \"\(key)\" entry")
      }
      stateDict = entry
    } else if root.isTensorDict {
      stateDict = root
    } else if let entry = root["model"] ?? root["state_dict"] {
      stateDict = entry
    } else {
      throw CheckpointError.unreadable(
        path: url.path, reason: "the checkpoint is neither a dict of tensors nor has a \"model\" or \"state_dict\" entry")
    }
    return try stateDict.tensorArchive(file: url)
  }

  /// Decodes a bare pickle (no zip container) under the same restrictions; `storages` maps persistent-id keys to
  /// raw bytes. For tests and for tools that unpack the container themselves.
  public static func unpickle(_ pickle: [UInt8], path: String = "", storages: [String: Data] = [:], opaqueGlobals: Bool = false) throws -> PickleValue {
    var unpickler = Unpickler(pickle, path: path) { request in
      guard let data = storages[request.key] else {
        throw CheckpointError.malformedPickle(path: path, reason: "persistent id refers to storage '\(request.key)', which is missing")
      }
      return data
    }
    unpickler.opaqueGlobals = opaqueGlobals
    return try unpickler.load()
  }

  /// Pre-1.6 torch.save files are a bare pickle stream followed by raw storages; say so instead of "not a zip".
  private static func rejectLegacyFormat(_ url: URL) throws {
    guard let handle = FileHandle(forReadingAtPath: url.path) else {
      let exists = FileManager.default.fileExists(atPath: url.path)
      throw CheckpointError.unreadable(path: url.path, reason: exists ? "permission denied" : "no such file")
    }
    defer { try? handle.close() }
    let head = (try? handle.read(upToCount: 4)) ?? Data()
    if head.first == 0x80 {
      throw CheckpointError.unreadable(
        path: url.path, reason: "legacy (pre-1.6) torch.save format is not supported; re-save it with a current torch")
    }
  }

  /// An entry's bytes, with its size bounded and (optionally) its CRC-32 checked.
  private static func extract(_ entry: Entry, from archive: Archive, path: String, limit: Int, verify: Bool) throws -> Data {
    guard entry.uncompressedSize <= UInt64(limit) else {
      throw CheckpointError.unreadable(
        path: path, reason: "entry \(entry.path) is \(entry.uncompressedSize) bytes, more than the \(limit) expected")
    }
    let size = Int(entry.uncompressedSize)
    var data = Data()
    data.reserveCapacity(size)
    do {
      let crc = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: !verify) { chunk in
        guard data.count + chunk.count <= size else {
          throw CheckpointError.unreadable(path: path, reason: "entry \(entry.path) is longer than its declared size")
        }
        data.append(chunk)
      }
      guard data.count == size else {
        throw CheckpointError.unreadable(path: path, reason: "entry \(entry.path) holds \(data.count) bytes, not the declared \(size)")
      }
      if verify && crc != entry.checksum {
        throw CheckpointError.unreadable(path: path, reason: "entry \(entry.path) fails its CRC-32 check (the file is corrupt)")
      }
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError.unreadable(path: path, reason: "cannot extract \(entry.path) (\(error))")
    }
    return data
  }
}
