import Foundation
import LTMModels
import LTMTasks
import LTMTokenizer

/// Token-level requests of one document, built from its prompt text the way lm-eval's `_encode_pair` does.
struct FewShotEncoder {
  let tokenizer: GPT2Tokenizer
  let special: [String: Int32]
  let contextLength: Int
  /// The most tokens a request may span (`FewShotLanguageModel.requestTokenLimit`).
  let requestTokenLimit: Int
  /// lm-eval's `prefix_token_id` for an empty context: BOS when the vocabulary has one (`<|beginoftext|>` in LTM
  /// checkpoints), else EOS (GPT-2's `<|endoftext|>`).
  let prefixToken: Int32

  init(tokenizer: GPT2Tokenizer, descriptor: ModelDescriptor, emptyContextToken: Int32? = nil, requestTokenLimit: Int? = nil) {
    self.tokenizer = tokenizer
    special = GPT2Tokenizer.specialTokens(modelVocabularySize: descriptor.vocabSize)
    contextLength = descriptor.contextLength
    self.requestTokenLimit = requestTokenLimit ?? descriptor.contextLength + 1
    prefixToken = emptyContextToken ?? special[GPT2Tokenizer.beginOfTextString] ?? GPT2Tokenizer.endOfText
  }

  func encode(_ text: String) -> [Int32] { tokenizer.encode(text, specialTokens: special) }

  func decode(_ ids: [Int32]) -> String { tokenizer.decode(ids, specialTokens: special) }

  /// (context, continuation) tokens: trailing whitespace of the context moves to the front of the continuation,
  /// the continuation is `encode(context + continuation)` minus the `encode(context)` prefix, and an empty context
  /// is the prefix token. Then the context is cut from the left so context + continuation fit the model (the last
  /// continuation token is never an input of an autoregressive model: `requestTokenLimit` tokens in all). Returns the
  /// tokens cut.
  func pair(context: String, continuation: String) throws -> (request: LoglikelihoodRequest, truncated: Int) {
    var ctx = context
    var cont = continuation
    let kept = ctx.rstripped
    if kept.count < ctx.count {
      cont = String(ctx[kept.endIndex...]) + cont
      ctx = String(kept)
    }
    var ctxIDs: [Int32]
    var contIDs: [Int32]
    if ctx.isEmpty {
      ctxIDs = [prefixToken]
      contIDs = encode(cont)
      // lm-eval: a continuation that already starts with the prefix token gives it up as context.
      if contIDs.first == prefixToken && contIDs.count > 1 { contIDs.removeFirst() }
    } else {
      let whole = encode(ctx + cont)
      ctxIDs = encode(ctx)
      contIDs = Array(whole[min(ctxIDs.count, whole.count)...])
    }
    guard !contIDs.isEmpty else {
      throw HarnessError.invalidArgument("the continuation '\(continuation)' encodes to no tokens after the context '\(context.suffix(40))'")
    }
    let room = requestTokenLimit - contIDs.count
    guard room >= 1 else {
      throw HarnessError.invalidArgument("a continuation of \(contIDs.count) tokens does not fit the model's \(contextLength)-token context")
    }
    let cut = max(0, ctxIDs.count - room)
    if cut > 0 { ctxIDs.removeFirst(cut) }
    return (LoglikelihoodRequest(context: ctxIDs, continuation: contIDs), cut)
  }

  /// lm-eval's `loglikelihood_rolling` requests of a document: `get_rolling_token_windows(tokens, prefix_token,
  /// max_seq_len = L, context_len = 1)` made disjoint (`make_disjoint_window`), L = `requestTokenLimit − 1` (the
  /// context length of an autoregressive model). The first window predicts the first L tokens from the prefix token;
  /// each later one predicts the next L tokens from the one before them, and the last, shorter one gets a full context.
  /// Summing the windows' log-likelihoods gives log p(document) with every token predicted once.
  /// `contextTokens` (a family's `rollingContextTokens`) caps every window's context, the last one's included.
  func rollingWindows(_ text: String, contextTokens: Int? = nil) throws -> [LoglikelihoodRequest] {
    let tokens = encode(text)
    // An empty document has no windows and log-likelihood 0, as in lm-eval (it still counts its one word).
    guard !tokens.isEmpty else { return [] }
    // lm-eval's max_seq_len (with context_len 1 it is also every window's prediction length): the model's input
    // length; a diffusion model, which reads the continuation too, one less.
    let maxLength = requestTokenLimit - 1
    var windows: [LoglikelihoodRequest] = []
    let first = min(maxLength, tokens.count)
    // First window: [prefix] + tokens[..<first-1] as input, tokens[..<first] predicted; disjoint: context = [prefix].
    windows.append(LoglikelihoodRequest(context: [prefixToken], continuation: Array(tokens[..<first])))
    var predicted = first
    while predicted < tokens.count {
      let length = min(tokens.count - predicted, maxLength)
      let end = predicted + length
      // Input tokens[end-maxLength-1 ..< end-1]; predicted tokens[end-length ..< end]; the disjoint context is the
      // input minus its overlap with the prediction.
      let inputStart = max(0, end - maxLength - 1, contextTokens.map { end - length - $0 } ?? 0)
      windows.append(LoglikelihoodRequest(context: Array(tokens[inputStart..<(end - length)]), continuation: Array(tokens[(end - length)..<end])))
      predicted += length
    }
    return windows
  }

  /// A generation request: the prompt (context + answer prefix) and the fit context (context alone) encoded as
  /// whole strings, each cut from the left to leave room for `maxNewTokens` in the model's context.
  func generation(prompt: String, fitContext: String, maxNewTokens: Int) throws -> (request: GenerationRequest, truncated: Int) {
    let room = contextLength - maxNewTokens
    guard room >= 1 else {
      throw HarnessError.invalidArgument("max_new_tokens \(maxNewTokens) leaves no room for a prompt in the model's \(contextLength)-token context")
    }
    var p = encode(prompt)
    var f = encode(fitContext)
    guard !p.isEmpty else { throw HarnessError.invalidArgument("the generation prompt encodes to no tokens") }
    let cut = max(0, p.count - room)
    p.removeFirst(cut)
    if f.count > room { f.removeFirst(f.count - room) }
    if f.isEmpty { f = p }
    return (GenerationRequest(prompt: p, fitContext: f), cut)
  }
}

extension String {
  /// Python's `str.rstrip()`: the string without trailing whitespace.
  var rstripped: Substring {
    var end = endIndex
    while end > startIndex {
      let before = index(before: end)
      guard self[before].isWhitespace else { break }
      end = before
    }
    return self[startIndex..<end]
  }
}
