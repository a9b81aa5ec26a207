import Foundation

/// A few-shot run in lm-evaluation-harness's results layout (what `lm_eval --output_path` writes), one file per
/// model, so tools that read lm-eval output read ltm-bench's: `results.<task>` holds `"<metric>,<filter>"` values
/// and `"<metric>_stderr,<filter>"` errors (filter `none` unless the metric names one, as `exact_match,strict-match`
/// does; a missing error is lm-eval's "N/A"), with `versions`, `n-shot`, `higher_is_better` and `n-samples`. A task
/// run at several shot counts is keyed `<task>_<k>shot` (lm-eval's layout holds one count per task), the task name
/// kept as `alias`. ltm-bench's own fields (the estimator and bound of each number) are under `ltm_bench`.
public enum LMEvalResults {
  /// model id → the JSON object of that model's results.
  public static func documents(_ doc: ResultsDocument) -> [String: [String: Any]] {
    guard let section = doc.fewshot else { return [:] }
    var out: [String: [String: Any]] = [:]
    for model in ordered(section.results.map(\.model)) {
      let rows = section.results.filter { $0.model == model }
      var results: [String: Any] = [:], versions: [String: Any] = [:], nShot: [String: Any] = [:]
      var higher: [String: Any] = [:], samples: [String: Any] = [:], own: [String: Any] = [:]
      for r in rows {
        let several = Set(rows.filter { $0.task == r.task }.map(\.shots)).count > 1
        let key = several ? "\(r.task)_\(r.shots)shot" : r.task
        var entry: [String: Any] = ["alias": r.task]
        var better: [String: Bool] = [:]
        for m in r.metrics {
          let (metric, filter) = split(m.name)
          entry["\(metric),\(filter)"] = m.value
          entry["\(metric)_stderr,\(filter)"] = m.stderr.map { $0 as Any } ?? "N/A"
          better[metric] = m.higherIsBetter
        }
        results[key] = entry
        versions[key] = r.taskVersion
        nShot[key] = r.shots
        higher[key] = better
        let available = section.tasks.first { $0.name == r.task }?.documentsAvailable ?? r.documents
        samples[key] = ["original": available, "effective": r.documents]
        own[key] = [
          "estimator": r.estimator ?? "generation", "bounds": Dictionary(uniqueKeysWithValues: r.metrics.map { ($0.name, $0.bound) }),
          "prompt_sha256": r.promptSHA256, "requests_sha256": r.requestsSHA256,
        ] as [String: Any]
      }
      out[model] = [
        "results": results, "versions": versions, "n-shot": nShot, "higher_is_better": higher, "n-samples": samples,
        "config": ["model": "ltm-bench", "model_args": "pretrained=\(doc.models.first { $0.id == model }?.path ?? model)", "limit": section.limit as Any? ?? NSNull()],
        "date": doc.run.startedAt, "model_name": model,
        "ltm_bench": ["version": doc.tool.version, "seed": doc.run.seed, "shot_pool": section.shotPool, "results": own],
      ]
    }
    return out
  }

  /// `exact_match,strict-match` → (exact_match, strict-match); `acc` → (acc, none).
  static func split(_ name: String) -> (metric: String, filter: String) {
    guard let comma = name.firstIndex(of: ",") else { return (name, "none") }
    return (String(name[..<comma]), String(name[name.index(after: comma)...]))
  }

  /// A model id as a file name: anything but letters, digits, '.', '-' and '_' becomes '_' (lm-eval sanitises too).
  public static func fileName(model: String) -> String {
    String(model.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0) ? Character($0) : "_" }) + ".json"
  }
}
