import Foundation

/// A few-shot task (`tasks/fewshot/*.yaml`), in the spirit of lm-evaluation-harness task files: data files per
/// split, `doc_to_text` / `doc_to_target` / `doc_to_choice` templates, delimiters, `output_type`, generation limits,
/// answer filters and metrics. A user adds a task by adding a file; `FewShotTaskDefinition` documents every key.
///
/// Prompts follow lm-eval's assembly (`FewShotPrompt`): `description + Σ_shots[text + target_delimiter + target +
/// fewshot_delimiter] + text(doc)`. A task may override any prompt field per model family (`families:` keyed by
/// `ModelDescriptor.family`), which is how the LTM paper's GSM8K formats are stated.
public struct FewShotTask: Sendable, Codable, Equatable {
  public enum OutputType: String, Sendable, Codable, CaseIterable {
    /// Free-form generation, scored by answer filters, exact match and pass@k.
    case generate
    /// log p(target | context): accuracy = the target is the greedy continuation, and perplexity.
    case loglikelihood
    /// One loglikelihood request per choice: accuracy = argmax, acc_norm_chars = argmax of ll / characters.
    case multipleChoice = "multiple_choice"
    /// log p(document) over lm-eval's disjoint rolling windows of the model's context (`get_rolling_token_windows`
    /// with context_len 1, `make_disjoint_window`): word and byte perplexity, bits per byte (lm-eval's `wikitext`).
    case loglikelihoodRolling = "loglikelihood_rolling"
  }

  public enum DataFormat: String, Sendable, Codable, CaseIterable {
    /// One JSON object per line; string, number and boolean values become fields, a list of strings its lines joined
    /// with "\n" (as Hugging Face builds a scientific_papers article).
    case jsonl
    /// RFC 4180 CSV without a header row; `columns` names the fields.
    case csv
    /// WikiText raw split into Wikipedia pages, field `page`, as EleutherAI/wikitext_document_level yields them
    /// (what lm-eval's `wikitext` task reads).
    case wikitextDocuments = "wikitext_documents"
    /// The zero-shot readers (`ReaderKind`), field `text`: any zero-shot dataset as documents, e.g. for a
    /// loglikelihood_rolling task over PTB sentences or LM1B shards.
    case ptbLines = "ptb_lines", wikitextRaw = "wikitext_raw", lm1bLines = "lm1b_lines", plainText = "plain_text"
  }

  /// One step of `preprocess`, applied to every document in order (lm-eval's `process_docs`, declaratively).
  public enum Preprocess: Sendable, Codable, Equatable {
    /// Removes leading and trailing whitespace and newlines.
    case strip(field: String)
    /// Replaces every occurrence of `of` with `with`.
    case replace(field: String, of: String, with: String)
    /// Searches `pattern` (NSRegularExpression) in the field and stores capture group i in `into[i]`; a document
    /// the pattern does not match is an error naming it.
    case captures(field: String, pattern: String, into: [String])
  }

  /// The prompt fields a family may override.
  public struct PromptFormat: Sendable, Codable, Equatable {
    /// Prefix before the first shot (no delimiter follows it).
    public var description: String
    public var docToText: String
    public var docToTarget: String
    public var targetDelimiter: String
    public var fewshotDelimiter: String
    /// Text before / after every demonstration and before the query (LTM paper: `<|beginoftext|>` before each;
    /// GPT-2 baseline: `<|endoftext|>` after each demonstration).
    public var shotPrefix: String
    public var shotSuffix: String
    /// Appended to the context to make a generation prompt (LTM paper: "Answer: "); the context without it is
    /// what a latent-variable model fits its posterior on.
    public var answerPrefix: String
    public var generation: GenerationConfig

    enum CodingKeys: String, CodingKey {
      case description, docToText = "doc_to_text", docToTarget = "doc_to_target"
      case targetDelimiter = "target_delimiter", fewshotDelimiter = "fewshot_delimiter"
      case shotPrefix = "shot_prefix", shotSuffix = "shot_suffix", answerPrefix = "answer_prefix", generation
    }
  }

  public struct GenerationConfig: Sendable, Codable, Equatable {
    /// greedy | beam | sample (`FewShotGenerationSettings.Strategy`).
    public var strategy: String
    public var maxNewTokens: Int
    public var beams: Int
    /// Candidates per document (beams returned, LTM posterior fits, samples); pass@k uses them all.
    public var candidates: Int
    /// Stop strings: a candidate's text is cut at the first occurrence of any (lm-eval's `until`).
    public var until: [String]
    public var stopTokens: [Int32]

    enum CodingKeys: String, CodingKey {
      case strategy, maxNewTokens = "max_new_tokens", beams, candidates, until, stopTokens = "stop_tokens"
    }

    public init(strategy: String = "greedy", maxNewTokens: Int = 256, beams: Int = 1, candidates: Int = 1, until: [String] = [], stopTokens: [Int32] = []) {
      self.strategy = strategy
      self.maxNewTokens = maxNewTokens
      self.beams = beams
      self.candidates = candidates
      self.until = until
      self.stopTokens = stopTokens
    }
  }

  /// An answer filter of a generation task (lm-eval `filter_list`: `regex` then `take_first`).
  public struct AnswerFilter: Sendable, Codable, Equatable {
    public var name: String
    public var regex: String
    /// Which match: 0 = first, -1 = last (lm-eval `group_select`).
    public var groupSelect: Int
    /// What a candidate without a match extracts to (lm-eval: "[invalid]").
    public var fallback: String

    enum CodingKeys: String, CodingKey { case name, regex, groupSelect = "group_select", fallback }
  }

  /// How extracted answers are compared with the gold one (lm-eval `exact_match` kwargs).
  public struct ExactMatchConfig: Sendable, Codable, Equatable {
    public var ignoreCase: Bool
    public var regexesToIgnore: [String]
    enum CodingKeys: String, CodingKey { case ignoreCase = "ignore_case", regexesToIgnore = "regexes_to_ignore" }
  }

  public var name: String
  /// Bump on any change to a prompt, a filter or a metric; results record it with a prompt hash.
  public var version: Int
  public var summary: String?
  public var format: DataFormat
  public var columns: [String]
  /// Split name → files relative to `--data-dir`.
  public var splits: [String: [String]]
  public var evalSplit: String
  /// Where demonstrations come from; nil: the evaluation split minus the document itself.
  public var fewshotSplit: String?
  public var outputType: OutputType
  /// The task's shot count when `--shots` is not given.
  public var numFewshot: Int
  public var preprocess: [Preprocess]
  public var prompt: PromptFormat
  /// Family name → the prompt format for that family (every field not given in the file is the default's).
  public var families: [String: PromptFormat]
  /// Multiple choice: one template per choice (a literal choice is a template without fields).
  public var docToChoice: [String]
  /// Multiple choice: `doc_to_target` renders one of these ids, whose position is the gold choice; absent, it
  /// renders the 0-based index or the choice text.
  public var choiceIDs: [String]?
  /// Generation: the gold answer template (pass@k looks for it as a substring of each candidate; exact match
  /// compares extracted answers with it).
  public var gold: String?
  public var filters: [AnswerFilter]
  public var exactMatch: ExactMatchConfig
  /// Metric names to report (see `FewShotTaskDefinition.knownMetrics`).
  public var metrics: [String]
  /// pass@k: the k of the unbiased estimator, reported besides the paper's any-of-n rule when n > k.
  public var passAtK: [Int]
  /// loglikelihood_rolling: applied to the rendered `doc_to_target` before it is scored (lm-eval's wikitext task
  /// detokenizes in `doc_to_target`); words and bytes are counted on the text before it, as lm-eval counts them.
  /// nil: none (and absent from `canonicalJSON`, so the other tasks' prompt hashes do not change).
  public var detokenizer: Detokenizer? = nil

  enum CodingKeys: String, CodingKey {
    case name, version, summary, format, columns, splits, evalSplit = "eval_split", fewshotSplit = "fewshot_split"
    case outputType = "output_type", numFewshot = "num_fewshot", preprocess, prompt, families
    case docToChoice = "doc_to_choice", choiceIDs = "choice_ids", gold, filters, exactMatch = "exact_match", metrics
    case passAtK = "pass_at_k", detokenizer
  }

  /// The prompt format a model family sees: its override when the task has one, else the default.
  public func format(forFamily family: String) -> PromptFormat { families[family] ?? prompt }

  /// Reads and validates a task file.
  public static func load(file: URL) throws -> FewShotTask {
    let text: String
    do {
      text = try String(contentsOf: file, encoding: .utf8)
    } catch {
      throw TaskError.unreadable(path: file.path, reason: oneLine(error))
    }
    return try FewShotTaskDefinition.parse(yaml: text, file: file.path)
  }

  public static func parse(yaml: String, file: String) throws -> FewShotTask {
    try FewShotTaskDefinition.parse(yaml: yaml, file: file)
  }

  /// The whole definition as canonical JSON (sorted keys): what the harness hashes into each result's prompt hash,
  /// so an edited prompt without a version bump is still visible.
  public var canonicalJSON: Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain strings, numbers and arrays cannot fail.
    return (try? encoder.encode(self)) ?? Data()
  }
}

/// The few-shot tasks of a directory (`tasks/fewshot/`), plus any YAML file a user names by path.
public struct FewShotCatalog: Sendable {
  public var tasks: [String: FewShotTask]

  public var names: [String] { tasks.keys.sorted() }

  public init(tasks: [String: FewShotTask]) { self.tasks = tasks }

  /// Every `*.yaml` / `*.yml` of `directory`; an invalid file or a name defined twice is an error.
  public static func load(directory: URL) throws -> FewShotCatalog {
    FewShotCatalog(tasks: try TaskFiles.loadAll(directory: directory, kind: "few-shot tasks", load: FewShotTask.load(file:), name: \.name))
  }

  /// A task by name, or the task file at `name` when it is a path.
  public func task(named name: String) throws -> FewShotTask {
    if let task = tasks[name] { return task }
    return try FewShotTask.load(file: TaskFiles.path(for: name, known: names))
  }
}
