import Foundation
import LTMPaths
import Yams

/// Strict reading of a few-shot task file: an unknown key anywhere is an error naming it (a typo such as
/// `target_delimter` would otherwise silently change every prompt), and so is a value of the wrong type.
///
/// ```yaml
/// name: arithmetic_2da             # letters, digits, '.', '_', '-'
/// version: 1                       # bump on any prompt/filter/metric change (results record it)
/// summary: GPT-3 two-digit addition # optional, for people
/// format: jsonl                    # jsonl | csv (csv needs `columns`, no header row) | wikitext_documents (field page)
///                                  #   | ptb_lines | wikitext_raw | lm1b_lines | plain_text (zero-shot readers, field text)
/// splits: {validation: [gpt3_arithmetic/two_digit_addition.jsonl]}   # relative to --data-dir
/// eval_split: validation
/// fewshot_split: train             # optional; absent: the eval split minus the document
/// output_type: loglikelihood       # generate | loglikelihood | multiple_choice | loglikelihood_rolling
/// num_fewshot: 0                   # default when --shots is not given
/// preprocess:                      # optional, in order: strip | replace | captures
///   - {field: context, strip: true}
///   - {field: context, replace: ["Q:", "Question:"]}
///   - {field: text, captures: "(?s)^(.*) ([^ ]*)$", into: [prefix, last_word]}
/// description: ""                  # prompt fields (defaults as lm-eval): description "", target_delimiter " ",
/// doc_to_text: "{{context}}"       #   fewshot_delimiter "\n\n", shot_prefix "", shot_suffix "", answer_prefix ""
/// doc_to_target: "{{completion}}"
/// target_delimiter: ""
/// generation: {strategy: greedy, max_new_tokens: 256, beams: 1, candidates: 1, until: ["\n\n"], stop_tokens: []}
/// families:                        # optional: per ModelDescriptor.family, any prompt field or generation
///   ltm: {shot_prefix: "<|beginoftext|>", generation: {max_new_tokens: 50}}
/// doc_to_choice: [World, Sports]   # multiple_choice: templates, one per choice
/// choice_ids: ["1", "2"]           # multiple_choice, optional: what doc_to_target renders for each choice
/// gold: "{{final_answer}}"         # generate: the gold answer
/// filters: [{name: strict-match, regex: "#### (\\-?[0-9\\.\\,]+)", group_select: 0, fallback: "[invalid]"}]
/// exact_match: {ignore_case: true, regexes_to_ignore: [","]}
/// metrics: [acc, perplexity]       # see knownMetrics per output type
/// pass_at_k: [1]                   # generate: unbiased pass@k estimates besides the any-of-n rule
/// detokenizer: wikitext            # loglikelihood_rolling: applied to doc_to_target (a zero-shot detokenizer)
/// ```
///
/// Templates substitute `{{field}}` (Mustache, with HTML escaping off: `FewShotTemplate`); every field a template
/// names must exist in every document, or rendering fails naming it.
enum FewShotTaskDefinition {
  static let topKeys: Set<String> = Set([
    "name", "version", "summary", "format", "columns", "splits", "eval_split", "fewshot_split", "output_type",
    "num_fewshot", "preprocess", "families", "doc_to_choice", "choice_ids", "gold", "filters", "exact_match",
    "metrics", "pass_at_k", "detokenizer",
  ]).union(promptKeys)
  static let promptKeys: Set<String> = [
    "description", "doc_to_text", "doc_to_target", "target_delimiter", "fewshot_delimiter", "shot_prefix",
    "shot_suffix", "answer_prefix", "generation",
  ]
  static let generationKeys: Set<String> = ["strategy", "max_new_tokens", "beams", "candidates", "until", "stop_tokens"]
  static let strategies = ["greedy", "beam", "sample"]

  /// Metrics each output type can report.
  static let knownMetrics: [FewShotTask.OutputType: [String]] = [
    .generate: ["pass_at_k", "exact_match"],
    .loglikelihood: ["acc", "perplexity"],
    .multipleChoice: ["acc", "acc_norm_chars"],
    .loglikelihoodRolling: ["word_perplexity", "byte_perplexity", "bits_per_byte", "token_perplexity"],
  ]

  /// The YAML as plain values: string-keyed dictionaries, arrays and the scalars Yams resolves (Int, Double, Bool,
  /// String, NSNull). Yams's own `load(yaml:)` force-unwraps a mapping key that is not hashable (a tagged key such as
  /// `!until: …`) and traps (found by FuzzFewShotTask); here any key that is not a plain scalar is an error.
  static func plainValue(_ node: Node, reader r: Reader) throws -> Any {
    switch node {
    case .scalar, .alias:
      return node.any
    case .sequence(let items):
      return try items.map { try plainValue($0, reader: r) }
    case .mapping(let pairs):
      var out: [String: Any] = [:]
      for (key, value) in pairs {
        // A resolved plain key has a core-schema tag (str, int, …); a custom one (`!until`) means the file is not ours.
        guard case .scalar(let scalar) = key, String(describing: scalar.tag).hasPrefix("tag:yaml.org,2002:") else {
          throw r.fail("a mapping key is not a plain string (\(oneLine(key.string ?? "a collection")))")
        }
        out[scalar.string] = try plainValue(value, reader: r)
      }
      return out
    }
  }

  static func parse(yaml: String, file: String) throws -> FewShotTask {
    let r = Reader(file: file)
    let loaded: Node?
    do {
      loaded = try Yams.compose(yaml: yaml)
    } catch {
      throw r.fail("not valid YAML: \(oneLine(error))")
    }
    guard let node = loaded, let root = try plainValue(node, reader: r) as? [String: Any] else {
      throw r.fail("expected a mapping of keys at the top level")
    }
    try r.checkKeys(root, allowed: topKeys, at: "")

    let name = try r.string(root, "name")
    guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) })
    else { throw r.fail("key 'name': '\(name)' may only hold letters, digits, '.', '_' and '-'") }
    let version = try r.int(root, "version")
    guard version >= 1 else { throw r.fail("key 'version': must be at least 1") }
    let format: FewShotTask.DataFormat = try r.enumeration(root, "format", default: .jsonl)
    let columns = try r.strings(root, "columns") ?? []
    if format == .csv && columns.isEmpty { throw r.fail("key 'columns': a csv task must name its columns") }
    if format != .csv && !columns.isEmpty { throw r.fail("key 'columns': only csv tasks use it") }

    guard let splitsValue = root["splits"] as? [String: Any], !splitsValue.isEmpty else {
      throw r.fail("key 'splits': expected a mapping of split names to lists of files under --data-dir")
    }
    var splits: [String: [String]] = [:]
    for (split, value) in splitsValue {
      guard let files = value as? [Any], !files.isEmpty, let names = files as? [String] else {
        throw r.fail("key 'splits.\(split)': expected a non-empty list of file names relative to --data-dir")
      }
      do {
        splits[split] = try names.map { try RelativePath(validating: $0).string }
      } catch {
        throw r.fail("key 'splits.\(split)': \(error); files are read under --data-dir")
      }
    }
    let evalSplit = try r.string(root, "eval_split")
    guard splits[evalSplit] != nil else { throw r.fail("key 'eval_split': '\(evalSplit)' is not one of the splits (\(splits.keys.sorted().joined(separator: ", ")))") }
    let fewshotSplit = try r.optionalString(root, "fewshot_split")
    if let s = fewshotSplit, splits[s] == nil {
      throw r.fail("key 'fewshot_split': '\(s)' is not one of the splits (\(splits.keys.sorted().joined(separator: ", ")))")
    }
    let outputType: FewShotTask.OutputType = try r.enumeration(root, "output_type", default: nil)
    let numFewshot = try r.optionalInt(root, "num_fewshot") ?? 0
    guard numFewshot >= 0 else { throw r.fail("key 'num_fewshot': must be at least 0") }
    let preprocess = try (root["preprocess"].map { try r.preprocess($0) }) ?? []

    let defaults = FewShotTask.PromptFormat(
      description: "", docToText: "", docToTarget: "", targetDelimiter: " ", fewshotDelimiter: "\n\n", shotPrefix: "",
      shotSuffix: "", answerPrefix: "", generation: FewShotTask.GenerationConfig())
    let prompt = try r.promptFormat(root, base: defaults, at: "")
    let rolling = outputType == .loglikelihoodRolling
    guard !prompt.docToText.isEmpty || rolling else { throw r.fail("missing key 'doc_to_text'") }
    if rolling && (!prompt.docToText.isEmpty || numFewshot != 0 || root["fewshot_split"] != nil || root["families"] != nil) {
      throw r.fail("a loglikelihood_rolling task scores whole documents: no doc_to_text, num_fewshot 0, no fewshot_split or families")
    }
    let detokenizer: Detokenizer? = root["detokenizer"] == nil ? nil : try r.enumeration(root, "detokenizer", default: nil)
    if !rolling && detokenizer != nil { throw r.fail("key 'detokenizer': only loglikelihood_rolling tasks use it") }
    if outputType != .multipleChoice && prompt.docToTarget.isEmpty { throw r.fail("missing key 'doc_to_target'") }
    var families: [String: FewShotTask.PromptFormat] = [:]
    if let value = root["families"] {
      guard let map = value as? [String: Any] else { throw r.fail("key 'families': expected family name -> prompt fields") }
      for (family, fields) in map {
        guard let fields = fields as? [String: Any] else { throw r.fail("key 'families.\(family)': expected a mapping of prompt fields") }
        try r.checkKeys(fields, allowed: promptKeys, at: "families.\(family).")
        families[family] = try r.promptFormat(fields, base: prompt, at: "families.\(family).")
      }
    }

    let docToChoice = try r.strings(root, "doc_to_choice") ?? []
    let choiceIDs = try r.strings(root, "choice_ids")
    if outputType == .multipleChoice {
      guard docToChoice.count >= 2 else { throw r.fail("key 'doc_to_choice': a multiple_choice task needs at least two choices") }
      if let ids = choiceIDs, ids.count != docToChoice.count || Set(ids).count != ids.count {
        throw r.fail("key 'choice_ids': expected \(docToChoice.count) distinct ids, one per choice")
      }
    } else if !docToChoice.isEmpty || choiceIDs != nil {
      throw r.fail("keys 'doc_to_choice' and 'choice_ids' belong to multiple_choice tasks")
    }

    let gold = try r.optionalString(root, "gold")
    if outputType == .generate && gold == nil { throw r.fail("missing key 'gold': a generate task needs the gold answer template") }
    if outputType != .generate && gold != nil { throw r.fail("key 'gold': only generate tasks use it (the target is the gold)") }
    var filters: [FewShotTask.AnswerFilter] = []
    if let value = root["filters"] {
      guard let list = value as? [Any] else { throw r.fail("key 'filters': expected a list") }
      for (i, item) in list.enumerated() {
        guard let map = item as? [String: Any] else { throw r.fail("key 'filters[\(i)]': expected a mapping") }
        try r.checkKeys(map, allowed: ["name", "regex", "group_select", "fallback"], at: "filters[\(i)].")
        let filter = FewShotTask.AnswerFilter(
          name: try r.string(map, "name"), regex: try r.string(map, "regex"),
          groupSelect: try r.optionalInt(map, "group_select") ?? 0, fallback: try r.optionalString(map, "fallback") ?? "[invalid]")
        try r.checkRegex(filter.regex, key: "filters[\(i)].regex")
        guard filter.groupSelect == 0 || filter.groupSelect == -1 else { throw r.fail("key 'filters[\(i)].group_select': 0 (first match) or -1 (last)") }
        filters.append(filter)
      }
    }
    var exactMatch = FewShotTask.ExactMatchConfig(ignoreCase: false, regexesToIgnore: [])
    if let value = root["exact_match"] {
      guard let map = value as? [String: Any] else { throw r.fail("key 'exact_match': expected a mapping") }
      try r.checkKeys(map, allowed: ["ignore_case", "regexes_to_ignore"], at: "exact_match.")
      if let v = map["ignore_case"] {
        guard let b = v as? Bool else { throw r.fail("key 'exact_match.ignore_case': expected true or false") }
        exactMatch.ignoreCase = b
      }
      exactMatch.regexesToIgnore = try r.strings(map, "regexes_to_ignore") ?? []
      for pattern in exactMatch.regexesToIgnore { try r.checkRegex(pattern, key: "exact_match.regexes_to_ignore") }
    }
    let metrics = try r.strings(root, "metrics") ?? []
    guard !metrics.isEmpty else { throw r.fail("key 'metrics': name at least one (\(knownMetrics[outputType]!.joined(separator: ", ")))") }
    for m in metrics where !knownMetrics[outputType]!.contains(m) {
      throw r.fail("key 'metrics': '\(m)' is not a \(outputType.rawValue) metric (known: \(knownMetrics[outputType]!.joined(separator: ", ")))")
    }
    if metrics.contains("exact_match") && filters.isEmpty { throw r.fail("metric exact_match needs at least one entry in 'filters'") }
    let passAtK = try r.ints(root, "pass_at_k") ?? []
    if passAtK.contains(where: { $0 < 1 }) { throw r.fail("key 'pass_at_k': every k must be at least 1") }

    return FewShotTask(
      name: name, version: version, summary: try r.optionalString(root, "summary"), format: format, columns: columns,
      splits: splits, evalSplit: evalSplit, fewshotSplit: fewshotSplit, outputType: outputType, numFewshot: numFewshot,
      preprocess: preprocess, prompt: prompt, families: families, docToChoice: docToChoice, choiceIDs: choiceIDs,
      gold: gold, filters: filters, exactMatch: exactMatch, metrics: metrics, passAtK: passAtK, detokenizer: detokenizer)
  }

  /// Typed access to the loaded YAML, each failure one line naming the file and the key.
  struct Reader {
    var file: String

    func fail(_ reason: String) -> TaskError { .invalidDefinition(file: file, reason: reason) }

    func checkKeys(_ map: [String: Any], allowed: Set<String>, at prefix: String) throws {
      for key in map.keys.sorted() where !allowed.contains(key) {
        throw fail("unknown key '\(prefix)\(key)' (allowed: \(allowed.sorted().joined(separator: ", ")))")
      }
    }

    func optionalString(_ map: [String: Any], _ key: String) throws -> String? {
      guard let value = map[key], !(value is NSNull) else { return nil }
      guard let s = value as? String else { throw fail("key '\(key)': expected a string (quote it), got \(value)") }
      return s
    }

    func string(_ map: [String: Any], _ key: String) throws -> String {
      guard let s = try optionalString(map, key) else { throw fail("missing key '\(key)'") }
      return s
    }

    func optionalInt(_ map: [String: Any], _ key: String) throws -> Int? {
      guard let value = map[key], !(value is NSNull) else { return nil }
      guard let i = value as? Int else { throw fail("key '\(key)': expected an integer, got \(value)") }
      return i
    }

    func int(_ map: [String: Any], _ key: String) throws -> Int {
      guard let i = try optionalInt(map, key) else { throw fail("missing key '\(key)'") }
      return i
    }

    func strings(_ map: [String: Any], _ key: String) throws -> [String]? {
      guard let value = map[key], !(value is NSNull) else { return nil }
      guard let list = value as? [Any], let strings = list as? [String] else {
        throw fail("key '\(key)': expected a list of strings (quote numbers)")
      }
      return strings
    }

    func ints(_ map: [String: Any], _ key: String) throws -> [Int]? {
      guard let value = map[key], !(value is NSNull) else { return nil }
      guard let list = value as? [Any], let ints = list as? [Int] else { throw fail("key '\(key)': expected a list of integers") }
      return ints
    }

    func enumeration<T: RawRepresentable & CaseIterable>(_ map: [String: Any], _ key: String, default value: T?) throws -> T
    where T.RawValue == String {
      guard let raw = try optionalString(map, key) else {
        if let value { return value }
        throw fail("missing key '\(key)' (one of: \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      guard let v = T(rawValue: raw) else {
        throw fail("key '\(key)': unknown value '\(raw)' (known: \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      return v
    }

    func checkRegex(_ pattern: String, key: String) throws {
      do {
        _ = try NSRegularExpression(pattern: pattern)
      } catch {
        throw fail("key '\(key)': '\(pattern)' is not a valid regular expression")
      }
    }

    func checkTemplate(_ template: String, key: String) throws {
      do {
        _ = try FewShotTemplate(template)
      } catch {
        throw fail("key '\(key)': \(error)")
      }
    }

    /// The prompt fields of `map` over `base` (top level: over lm-eval's defaults; a family: over the top level).
    func promptFormat(_ map: [String: Any], base: FewShotTask.PromptFormat, at prefix: String) throws -> FewShotTask.PromptFormat {
      var f = base
      func take(_ key: String, _ path: WritableKeyPath<FewShotTask.PromptFormat, String>, template: Bool) throws {
        guard let s = try optionalString(map, key) else { return }
        if template { try checkTemplate(s, key: prefix + key) }
        f[keyPath: path] = s
      }
      try take("description", \.description, template: true)
      try take("doc_to_text", \.docToText, template: true)
      try take("doc_to_target", \.docToTarget, template: true)
      try take("target_delimiter", \.targetDelimiter, template: false)
      try take("fewshot_delimiter", \.fewshotDelimiter, template: false)
      try take("shot_prefix", \.shotPrefix, template: false)
      try take("shot_suffix", \.shotSuffix, template: false)
      try take("answer_prefix", \.answerPrefix, template: false)
      if let value = map["generation"] {
        guard let g = value as? [String: Any] else { throw fail("key '\(prefix)generation': expected a mapping") }
        try checkKeys(g, allowed: generationKeys, at: prefix + "generation.")
        var gen = f.generation
        if let s = try optionalString(g, "strategy") {
          guard strategies.contains(s) else { throw fail("key '\(prefix)generation.strategy': '\(s)' (known: \(strategies.joined(separator: ", ")))") }
          gen.strategy = s
        }
        gen.maxNewTokens = try optionalInt(g, "max_new_tokens") ?? gen.maxNewTokens
        gen.beams = try optionalInt(g, "beams") ?? gen.beams
        gen.candidates = try optionalInt(g, "candidates") ?? gen.candidates
        gen.until = try strings(g, "until") ?? gen.until
        gen.stopTokens = try (ints(g, "stop_tokens")?.map(Int32.init)) ?? gen.stopTokens
        guard gen.maxNewTokens >= 1, gen.beams >= 1, gen.candidates >= 1 else {
          throw fail("key '\(prefix)generation': max_new_tokens, beams and candidates must be at least 1")
        }
        if gen.strategy == "beam" && gen.candidates > gen.beams {
          throw fail("key '\(prefix)generation': beam search returns at most `beams` candidates (\(gen.candidates) > \(gen.beams))")
        }
        f.generation = gen
      }
      return f
    }

    func preprocess(_ value: Any) throws -> [FewShotTask.Preprocess] {
      guard let list = value as? [Any] else { throw fail("key 'preprocess': expected a list of steps") }
      return try list.enumerated().map { i, item in
        guard let map = item as? [String: Any] else { throw fail("key 'preprocess[\(i)]': expected a mapping") }
        try checkKeys(map, allowed: ["field", "strip", "replace", "captures", "into"], at: "preprocess[\(i)].")
        let field = try string(map, "field")
        let ops = ["strip", "replace", "captures"].filter { map[$0] != nil }
        guard ops.count == 1 else { throw fail("key 'preprocess[\(i)]': give exactly one of strip, replace, captures") }
        switch ops[0] {
        case "strip":
          guard map["strip"] as? Bool == true else { throw fail("key 'preprocess[\(i)].strip': write strip: true") }
          return .strip(field: field)
        case "replace":
          guard let pair = try strings(map, "replace"), pair.count == 2, !pair[0].isEmpty else {
            throw fail("key 'preprocess[\(i)].replace': expected [from, to] with a non-empty from")
          }
          return .replace(field: field, of: pair[0], with: pair[1])
        default:
          let pattern = try string(map, "captures")
          try checkRegex(pattern, key: "preprocess[\(i)].captures")
          guard let into = try strings(map, "into"), !into.isEmpty else {
            throw fail("key 'preprocess[\(i)].into': name the field of each capture group")
          }
          let groups = (try? NSRegularExpression(pattern: pattern).numberOfCaptureGroups) ?? 0
          guard groups == into.count else {
            throw fail("key 'preprocess[\(i)]': the pattern has \(groups) capture groups but 'into' names \(into.count) fields")
          }
          return .captures(field: field, pattern: pattern, into: into)
        }
      }
    }
  }
}
