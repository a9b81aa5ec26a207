import Foundation
import LTMCheckpoint

/// A model ready to score, with the files it came from (for provenance) and where its tokenizer lives.
public struct LoadedModel {
  public var model: BlockScoringModel
  /// The model's configuration as recorded in the report (the decoded config, re-encoded).
  public var family: String
  public var checkpointFiles: [URL]
  public var tokenizerDirectory: URL
}

/// Maps a checkpoint (a directory or a file) to its family and loads it.
///
/// Detection is explicit, never by trial: a layout a family recognises by its files, a single file by the extension
/// its family's authors write (`.pt`/`.pth`: the LTM authors' `torch.save`; `.ckpt`: the MDLM authors' Lightning
/// checkpoint), a Hugging Face folder (or a weights file inside one) by `config.json`'s `model_type`; an unknown or
/// missing family is an error that says what was found.
public enum ModelRegistry {
  /// Every family, one line each: adding a family is one folder and one line here.
  public static let families: [any ModelFamily.Type] = [
    GPT2Family.self,
    LTMFamily.self,
    MDLMFamily.self,
    SEDDFamily.self,
  ]

  public static func load(path: URL) throws -> LoadedModel {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
      throw CheckpointError.unreadable(path: path.path, reason: "no such file or directory")
    }
    let candidate = CheckpointCandidate(path: path, isDirectory: isDirectory.boolValue)
    let family = try family(of: candidate)
    let (model, files) = try family.load(candidate)
    return LoadedModel(model: model, family: family.name, checkpointFiles: files, tokenizerDirectory: candidate.directory)
  }

  /// The family name of the checkpoint at `path`, without loading its weights.
  public static func familyName(of path: URL) throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
      throw CheckpointError.unreadable(path: path.path, reason: "no such file or directory")
    }
    return try family(of: CheckpointCandidate(path: path, isDirectory: isDirectory.boolValue)).name
  }

  /// The family that claims `candidate`: a layout a family recognises, then a file's extension, then the folder's
  /// `config.json` `model_type`.
  static func family(of candidate: CheckpointCandidate) throws -> any ModelFamily.Type {
    if let family = families.first(where: { $0.recognizes(candidate) }) { return family }
    if let family = families.first(where: { $0.fileExtensions.contains(candidate.fileExtension) }) { return family }
    guard let configData = candidate.configData else {
      throw ModelError.unknownFamily(path: candidate.path.path, reason: "no config.json in \(candidate.directory.path)")
    }
    struct ModelType: Decodable { var model_type: String? }
    let type = try decodeConfig(ModelType.self, from: configData, path: candidate.configURL.path).model_type
    guard let type, let family = families.first(where: { $0.modelTypes.contains(type) }) else {
      let supported = families.flatMap { $0.modelTypes }.sorted().joined(separator: ", ")
      throw ModelError.unknownFamily(
        path: candidate.path.path, reason: "config.json model_type is \(type.map { "'\($0)'" } ?? "missing") (supported: \(supported))")
    }
    return family
  }

  /// The display names of the families that read `group`, for messages ("LTM", "GPT-2 or MDLM").
  public static func familyNames(accepting group: ModelOptionGroup) -> String {
    let names = families.filter { $0.acceptedOptions.contains(group) }.map { $0.displayName }
    return names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
  }

  /// Whether the family named `name` (a `LoadedModel.family`) reads `group`.
  public static func family(named name: String, accepts group: ModelOptionGroup) -> Bool {
    families.first { $0.name == name }?.acceptedOptions.contains(group) ?? false
  }

  /// Decodes a JSON config, turning `DecodingError` into one line that names the file and the key path: a value of
  /// the wrong kind (`"n_layer": 2.5`) is named as such, only text that is not JSON at all is "not valid JSON".
  static func decodeConfig<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
    do {
      return try JSONDecoder().decode(T.self, from: data)
    } catch {
      let reason = (error as? DecodingError).flatMap(configErrorReason)
        ?? fractionWhereAnIntegerBelongs(T.self, in: data) ?? "not valid JSON"
      throw ModelError.unsupportedConfig(path: path, reason: reason)
    }
  }

  /// One line for a config that parsed but does not fit the type, naming the key path (JSON and YAML configs alike);
  /// nil when the text itself did not parse (a data error at the top level).
  static func configErrorReason(_ error: DecodingError) -> String? {
    func keyPath(_ c: DecodingError.Context, _ last: CodingKey? = nil) -> String {
      let keys = (c.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      return keys.isEmpty ? "the top level" : keys.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context): return "missing key \(keyPath(context, key))"
    case .typeMismatch(let type, let context): return "wrong type at \(keyPath(context)) (expected \(type))"
    case .valueNotFound(_, let context): return "null at \(keyPath(context))"
    case .dataCorrupted(let context) where !context.codingPath.isEmpty: return "key \(keyPath(context)): \(context.debugDescription)"
    default: return nil
    }
  }

  /// Foundation's JSONDecoder reports a fraction where an integer belongs (`"n_layer": 2.5`) as "not valid JSON"
  /// with no key. Finds the key: rounds each fractional number in turn until the decoding gets past it.
  private static func fractionWhereAnIntegerBelongs<T: Decodable>(_ type: T.Type, in data: Data) -> String? {
    guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
    func fractions(_ object: [String: Any], _ prefix: [String]) -> [([String], Double)] {
      object.keys.sorted().flatMap { key -> [([String], Double)] in
        if let nested = object[key] as? [String: Any] { return fractions(nested, prefix + [key]) }
        guard let number = object[key] as? NSNumber, !(object[key] is Bool), number.doubleValue != number.doubleValue.rounded() else { return [] }
        return [(prefix + [key], number.doubleValue)]
      }
    }
    func replacing(_ keys: ArraySlice<String>, in object: [String: Any], with value: Double) -> [String: Any] {
      var copy = object
      guard let key = keys.first else { return copy }
      copy[key] = keys.count == 1 ? value.rounded() : replacing(keys.dropFirst(), in: object[key] as? [String: Any] ?? [:], with: value)
      return copy
    }
    for (keys, value) in fractions(root, []) {
      guard let rounded = try? JSONSerialization.data(withJSONObject: replacing(keys[...], in: root, with: value)) else { continue }
      do {
        _ = try JSONDecoder().decode(T.self, from: rounded)
      } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
        continue  // not this one
      } catch {}
      return "key \(keys.joined(separator: ".")): \(value) is not an integer"
    }
    return nil
  }
}

/// The weights of a Hugging Face directory: `model.safetensors`, a sharded `model.safetensors.index.json`,
/// `pytorch_model.bin` or its shard index, in that order of preference (`CheckpointLoader`).
enum WeightFiles {
  static func load(directory: URL) throws -> (TensorArchive, [URL]) {
    let archive = try CheckpointLoader.load(directory)
    return (archive, archive.files)
  }
}
