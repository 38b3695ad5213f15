import Foundation
import HavenCore
import Testing
@testable import HavenAPI

/// The words written into the templates at start are escaped like any value, and a catalogue's
/// text can never become template syntax.
@Suite struct CatalogueInliningTests {
    private func catalogue(english: [String: String], romanian: [String: String]) throws -> Catalogue {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("catalogue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for language in Language.allCases {
            let table = language == .en ? english : language == .ro ? romanian : [:]
            try JSONEncoder().encode(table).write(to: folder.appendingPathComponent("\(language.rawValue).json"))
        }
        return try Catalogue(directory: folder)
    }

    @Test func wordsAreWrittenInEscapedAndInertInTheirLanguage() throws {
        let words = try catalogue(english: ["a.b": "Fish & <chips> \"{{case.id}}\"", "only": "English"],
                                  romanian: ["a.b": "Pește 'prăjit'"])
        let template = "<p title=\"{{t.a.b}}\">{{t.only}}</p>{{value}}{{t.absent}}"
        #expect(words.inlined(template, .en)
            == "<p title=\"Fish &amp; &lt;chips&gt; &quot;&#123;&#123;case.id&#125;&#125;&quot;\">English</p>{{value}}")
        // A word the language lacks reads in English; a key no catalogue has renders nothing, as before.
        #expect(words.inlined(template, .ro) == "<p title=\"Pește &#39;prăjit&#39;\">English</p>{{value}}")
        #expect(words.inlined(template, .uk).contains("Fish &amp;"))
    }

    @Test func valuesAreEscapedByteByByteEvenBeforeACombiningMark() throws {
        // A quote followed by a combining accent is one grapheme cluster: escaping by cluster
        // would leave the quote and let the value leave its attribute.
        let hostile = "x\"\u{301} autofocus onfocus=alert(1) '\u{301}<\u{301}"
        #expect(HTMLEscaping().escapeText(hostile) == "x&quot;\u{301} autofocus onfocus=alert(1) &#39;\u{301}&lt;\u{301}")
        #expect(HTMLEscaping().escapeText("Ана & Ion <b>") == "Ана &amp; Ion &lt;b&gt;")
        #expect(HTMLEscaping().escapeText("plain") == "plain")
        // Every console template escapes this way, in every language.
        let renderer = try ConsoleRenderer.load()
        let escapedQuote = "x&quot;\u{301} autofocus", bareQuote = "x\"\u{301}"
        for language in Language.allCases {
            let page = try #require(renderer.html("error", ["lang": language.rawValue, "message": hostile, "title": hostile]))
            let kept = page.contains(escapedQuote), leaked = page.contains(bareQuote)
            #expect(kept, "\(language)")
            #expect(!leaked, "\(language)")
        }
    }
}
