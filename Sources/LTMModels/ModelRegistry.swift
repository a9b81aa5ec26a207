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

/// Maps a checkpoint (a directory or a file) to its family, its Codable config and its loader.
///
/// Detection is explicit, never by trial: a Hugging Face directory names its family in `config.json`'s
/// `model_type`; an unknown or missing family is an error that says what was found.
public enum ModelRegistry {
  /// One model family: how to read its config and weights from a checkpoint directory.
  public struct Family {
    public var name: String
    public var load: (_ directory: URL, _ configData: Data) throws -> (BlockScoringModel, [URL])
  }

  /// `model_type` → family. New families (LTM, MDLM, SEDD) register here.
  public static let families: [String: Family] = [
    "gpt2": Family(name: "gpt2") { directory, configData in
      let config = try decodeConfig(GPT2Config.self, from: configData, path: directory.appendingPathComponent("config.json").path)
      let (archive, files) = try WeightFiles.load(directory: directory)
      return (try GPT2Model(config: config, weights: archive, source: directory.path), files)
    },
    // LTM converted to safetensors: config.json {"model_type": "ltm", "model_args": …, "config": …}.
    "ltm": Family(name: "ltm") { directory, _ in try LTMModel.load(directory: directory) },
    // MDLM in the Hugging Face layout (kuleshov-group/mdlm-owt): config.json + model.safetensors with backbone.* keys.
    "mdlm": Family(name: "mdlm") { directory, configData in
      let (model, files) = try MDLMModel.load(directory: directory, configData: configData)
      return (model, files)
    },
  ]

  /// torch.save files (`.pt`, `.pth`) are the LTM authors' training checkpoints; Lightning `.ckpt` files (also
  /// torch.save) are the MDLM authors'.
  static let torchFileExtensions: Set<String> = ["pt", "pth"]

  public static func load(path: URL) throws -> LoadedModel {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
      throw CheckpointError.unreadable(path: path.path, reason: "no such file or directory")
    }
    // The LTM authors' torch.save checkpoint (ckpt_*.pt): read natively; its tokenizer files may lie beside it.
    if !isDirectory.boolValue, torchFileExtensions.contains(path.pathExtension.lowercased()) {
      let model = try LTMModel.load(checkpoint: path)
      return LoadedModel(model: model, family: "ltm", checkpointFiles: [path], tokenizerDirectory: path.deletingLastPathComponent())
    }
    // A Lightning checkpoint (the MDLM authors' mdlm.ckpt): EMA weights preferred, config beside it or inside.
    if !isDirectory.boolValue, path.pathExtension.lowercased() == "ckpt" {
      let (model, _) = try MDLMModel.load(lightningCheckpoint: path)
      return LoadedModel(model: model, family: "mdlm", checkpointFiles: [path], tokenizerDirectory: path.deletingLastPathComponent())
    }
    // A weights file inside a Hugging Face directory: load the directory (config.json lives beside it).
    let directory = isDirectory.boolValue ? path : path.deletingLastPathComponent()
    let configURL = directory.appendingPathComponent("config.json")
    guard let configData = FileManager.default.contents(atPath: configURL.path) else {
      throw ModelError.unknownFamily(path: path.path, reason: "no config.json in \(directory.path)")
    }
    struct ModelType: Decodable { var model_type: String? }
    let type = try decodeConfig(ModelType.self, from: configData, path: configURL.path).model_type
    guard let name = type, let family = families[name] else {
      throw ModelError.unknownFamily(
        path: path.path,
        reason: "config.json model_type is \(type.map { "'\($0)'" } ?? "missing") (supported: \(families.keys.sorted().joined(separator: ", ")))")
    }
    let (model, files) = try family.load(directory, configData)
    return LoadedModel(model: model, family: family.name, checkpointFiles: [configURL] + files, tokenizerDirectory: directory)
  }

  /// Decodes a JSON config, turning `DecodingError` into one line that names the file and the key path: a value of
  /// the wrong kind (`"n_layer": 2.5`) is named as such, only text that is not JSON at all is "not valid JSON".
  static func decodeConfig<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
    func keyPath(_ c: DecodingError.Context, _ last: CodingKey? = nil) -> String {
      let keys = (c.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      return keys.isEmpty ? "the top level" : keys.joined(separator: ".")
    }
    do {
      return try JSONDecoder().decode(T.self, from: data)
    } catch let DecodingError.keyNotFound(key, context) {
      throw ModelError.unsupportedConfig(path: path, reason: "missing key \(keyPath(context, key))")
    } catch let DecodingError.typeMismatch(type, context) {
      throw ModelError.unsupportedConfig(path: path, reason: "wrong type at \(keyPath(context)) (expected \(type))")
    } catch let DecodingError.valueNotFound(_, context) {
      throw ModelError.unsupportedConfig(path: path, reason: "null at \(keyPath(context))")
    } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
      throw ModelError.unsupportedConfig(path: path, reason: "key \(keyPath(context)): \(context.debugDescription)")
    } catch {
      throw ModelError.unsupportedConfig(path: path, reason: fractionWhereAnIntegerBelongs(T.self, in: data) ?? "not valid JSON")
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
