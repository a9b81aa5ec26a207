import Foundation
import LTMMetrics

/// Combines the shard files of one run (`zero-shot --shard i/n`, i = 0…n−1) into the file the unsharded run
/// would have written. Every number is recomputed from the shards' `per_block` records in block order, so the
/// merged perplexities equal the unsharded run's exactly; only timing and host fields differ.
public enum ShardMerge {
  /// A shard file and the name errors use for it (its path).
  public typealias Shard = (name: String, document: ResultsDocument)

  public static func merge(_ shards: [Shard]) throws -> ResultsDocument {
    guard let first = shards.first else { throw ReportError.notMergeable("no shard files given") }
    let count = try checkCover(shards)
    try checkSameRun(shards, first: first)

    var results: [ResultEntry] = []
    for template in first.document.results {
      var records: [BlockRecord] = []
      var wall = 0.0
      for shard in shards {
        let matches = shard.document.results.filter { sameResult($0, template) }
        guard matches.count == 1, let entry = matches.first else {
          throw ReportError.notMergeable("\(shard.name) has \(matches.count) results for \(template.subject), expected 1")
        }
        guard let blocks = entry.perBlock else {
          throw ReportError.notMergeable("\(shard.name): \(entry.subject) has no per_block scores (written by an older ltm-bench?)")
        }
        let info = shard.document.run.shard!
        if let stray = blocks.first(where: { !info.contains(block: $0.index) }) {
          throw ReportError.notMergeable("\(shard.name): block \(stray.index) of \(entry.subject) does not belong to shard \(info.index)/\(info.count)")
        }
        records += blocks
        wall += entry.wallSeconds
      }
      try checkBlocks(records, of: template, tasks: first.document.tasks)
      var merged = template
      merged.partialReasons = template.partialReasons.filter { $0 != first.document.run.shard!.partialReason }
      merged.complete = merged.partialReasons.isEmpty
      merged.wallSeconds = wall
      merged.perBlock = nil
      try merged.setScores(from: records)
      results.append(merged)
    }
    for shard in shards.dropFirst() where shard.document.results.count != first.document.results.count {
      throw ReportError.notMergeable("\(shard.name) has \(shard.document.results.count) results, \(first.name) has \(first.document.results.count)")
    }

    let runs = shards.map(\.document.run)
    var run = first.document.run
    run.startedAt = runs.map(\.startedAt).min()!
    run.wallSeconds = runs.reduce(0) { $0 + $1.wallSeconds }
    run.threads = runs.map(\.threads).max()!
    run.host = ordered(runs.map(\.host)).joined(separator: ", ")
    run.resumedBlocks = runs.reduce(0) { $0 + $1.resumedBlocks }
    run.shard = nil
    run.mergedShards = count
    var doc = first.document
    doc.run = run
    doc.results = results
    return doc
  }

  /// Every shard names the same n, and the indices are 0…n−1, each once. Returns n.
  private static func checkCover(_ shards: [Shard]) throws -> Int {
    var seen: [Int: String] = [:]
    var count: Int?
    for shard in shards {
      guard let info = shard.document.run.shard else {
        throw ReportError.notMergeable("\(shard.name) is not a shard file (no run.shard; written without --shard)")
      }
      if let n = count, n != info.count {
        throw ReportError.notMergeable("\(shard.name) is shard \(info.index)/\(info.count), but other files are shards of \(n)")
      }
      count = info.count
      if let other = seen[info.index] {
        throw ReportError.notMergeable("shard \(info.index)/\(info.count) given twice (\(other), \(shard.name))")
      }
      seen[info.index] = shard.name
    }
    let n = count!
    let missing = (0..<n).filter { seen[$0] == nil }
    guard missing.isEmpty else {
      throw ReportError.notMergeable("shard\(missing.count > 1 ? "s" : "") \(missing.map { "\($0)/\(n)" }.joined(separator: ", ")) missing")
    }
    return n
  }

  /// Same tool, protocol, split, block limit, seed, checkpoints and token blocks: the shards are parts of one run.
  private static func checkSameRun(_ shards: [Shard], first: Shard) throws {
    let a = first.document
    for shard in shards.dropFirst() {
      let b = shard.document
      func differ(_ what: String, _ x: String, _ y: String) -> ReportError {
        .notMergeable("\(what) differs between \(first.name) (\(x)) and \(shard.name) (\(y)): not shards of one run")
      }
      if a.tool != b.tool { throw differ("ltm-bench version", a.tool.version, b.tool.version) }
      if a.run.protocolName != b.run.protocolName { throw differ("protocol", a.run.protocolName, b.run.protocolName) }
      if a.run.split != b.run.split { throw differ("split", a.run.split ?? "defaults", b.run.split ?? "defaults") }
      if a.run.limitBlocks != b.run.limitBlocks {
        throw differ("--limit-blocks", a.run.limitBlocks.map(String.init) ?? "none", b.run.limitBlocks.map(String.init) ?? "none")
      }
      if a.run.seed != b.run.seed { throw differ("seed", String(a.run.seed), String(b.run.seed)) }
      // Paths differ between machines; what was loaded is the checksums.
      let modelsA = a.models.map { m -> ModelInfo in var m = m; m.path = ""; return m }
      let modelsB = b.models.map { m -> ModelInfo in var m = m; m.path = ""; return m }
      if modelsA != modelsB { throw differ("models or their checksums", a.models.map(\.id).joined(separator: ","), b.models.map(\.id).joined(separator: ",")) }
      if a.tasks != b.tasks { throw differ("tasks, data files or token blocks", a.tasks.map(\.name).joined(separator: ","), b.tasks.map(\.name).joined(separator: ",")) }
    }
  }

  /// The records cover blocks 0..<blocks_scored of the task exactly once.
  private static func checkBlocks(_ records: [BlockRecord], of entry: ResultEntry, tasks: [TaskInfo]) throws {
    var seen = Set<Int>()
    for r in records where !seen.insert(r.index).inserted {
      throw ReportError.notMergeable("block \(r.index) of \(entry.subject) appears in two shards")
    }
    let infos = tasks.filter { $0.name == entry.task && $0.split == entry.split }
    let expected = infos.count == 1 ? infos[0].blocksScored : (seen.max() ?? -1) + 1
    let missing = (0..<expected).filter { !seen.contains($0) }
    guard missing.isEmpty, seen.count == expected else {
      throw ReportError.notMergeable("\(entry.subject): \(missing.count) of \(expected) blocks missing from the shards (first: \(missing.first ?? expected))")
    }
  }

  /// Two entries are the same result of different shards.
  private static func sameResult(_ a: ResultEntry, _ b: ResultEntry) -> Bool {
    a.model == b.model && a.task == b.task && a.split == b.split && a.protocolName == b.protocolName
      && a.inferenceSteps == b.inferenceSteps && a.scorerSettings == b.scorerSettings
  }
}
