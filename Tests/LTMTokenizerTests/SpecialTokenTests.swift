import XCTest

@testable import LTMTokenizer

/// Special-token splitting, as the Hugging Face tokenizer with the LTM authors' added `<|beginoftext|>` does it.
final class SpecialTokenTests: XCTestCase {
  func testEndOfTextIsOneIdAndTheTextAroundItIsEncodedSeparately() throws {
    let tok = try TokenizerFixtures.standard()
    let special = GPT2Tokenizer.specialTokens(modelVocabularySize: 50257)
    XCTAssertEqual(special, ["<|endoftext|>": 50256])
    let text = "Answer: 18<|endoftext|>Question: Why?"
    let ids = tok.encode(text, specialTokens: special)
    XCTAssertEqual(ids, tok.encode("Answer: 18") + [50256] + tok.encode("Question: Why?"))
    // Without splitting, the marker is BPE'd as punctuation and letters: never the id 50256.
    XCTAssertFalse(tok.encode(text).contains(50256))
    // Known ids: "Answer" 33706, ":" 25, " 18" 1248.
    XCTAssertEqual(Array(ids.prefix(4)), [33706, 25, 1248, 50256])
  }

  func testBeginOfTextOnlyWhenTheModelVocabularyHasIt() throws {
    let tok = try TokenizerFixtures.standard()
    let ltm = GPT2Tokenizer.specialTokens(modelVocabularySize: 50258)
    XCTAssertEqual(ltm["<|beginoftext|>"], 50257)
    let text = "<|beginoftext|>Question: 1+1?Answer: 2<|beginoftext|>Question: x"
    XCTAssertEqual(
      tok.encode(text, specialTokens: ltm),
      [50257] + tok.encode("Question: 1+1?Answer: 2") + [50257] + tok.encode("Question: x"))
    // GPT-2 (50257 ids) has no such token: the string stays text.
    let gpt2 = GPT2Tokenizer.specialTokens(modelVocabularySize: 50257)
    XCTAssertEqual(tok.encode(text, specialTokens: gpt2), tok.encode(text))
  }

  func testAdjacentAndEdgeOccurrences() throws {
    let tok = try TokenizerFixtures.standard()
    let ltm = GPT2Tokenizer.specialTokens(modelVocabularySize: 50258)
    XCTAssertEqual(tok.encode("<|endoftext|><|beginoftext|>", specialTokens: ltm), [50256, 50257])
    XCTAssertEqual(tok.encode("", specialTokens: ltm), [])
    XCTAssertEqual(tok.encode("<|endoftext", specialTokens: ltm), tok.encode("<|endoftext"))
    let ids = tok.encode("a<|beginoftext|>b", specialTokens: ltm)
    XCTAssertEqual(tok.decode(ids, specialTokens: ltm), "a<|beginoftext|>b")
  }
}
