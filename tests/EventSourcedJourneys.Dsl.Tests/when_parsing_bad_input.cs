using EventSourcedJourneys.Dsl.Parsing;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_parsing_bad_input
{
    static IReadOnlyList<string> Errors(string text)
    {
        Assert.False(RuleParser.TryParse(text, out _, out var diagnostics));
        return diagnostics.Select(d => d.ToString()).ToArray();
    }

    [Fact]
    public void an_empty_document_says_what_to_write() =>
        Assert.Equal(["1:1: the document is empty; write at least one segment, trigger, policy or funnel"], Errors(""));

    [Fact]
    public void a_document_of_only_comments_is_empty_too() =>
        Assert.Equal(["2:1: the document is empty; write at least one segment, trigger, policy or funnel"], Errors("# nothing yet\n"));

    [Fact]
    public void ten_thousand_nested_parentheses_are_reported_without_exhausting_the_stack()
    {
        var text = "segment s = " + new string('(', 10_000) + "traits.a = 1" + new string(')', 10_000);

        Assert.Equal(
            ["1:54: conditions are nested more than 40 levels deep; split them into named segments"],
            Errors(text));
    }

    [Fact]
    public void ten_thousand_nots_are_reported_without_exhausting_the_stack()
    {
        var text = "segment s = " + string.Concat(Enumerable.Repeat("not ", 10_000)) + "traits.a exists";

        Assert.Equal(
            ["1:177: conditions are nested more than 40 levels deep; split them into named segments"],
            Errors(text));
    }

    [Fact]
    public void control_characters_are_reported_with_their_code_point() =>
        Assert.Equal(
            ["1:13: unexpected character U+0007", "1:50: this text contains a control character or an unknown escape; use \\\" \\\\ \\n \\t \\r or \\uXXXX"],
            Errors("segment s = \u0007traits.a = 1\nsegment t = traits.a = \"x\u0001\"".Replace("\n", " ")));

    [Fact]
    public void text_at_the_top_level_asks_for_a_rule() =>
        Assert.Equal(
            ["1:1: unexpected name `hello`, expected `segment`, `trigger`, `policy` or `funnel`"],
            Errors("hello world"));

    [Fact]
    public void a_document_over_the_size_limit_is_refused_before_reading_it()
    {
        var text = new string('x', RuleCompiler.MaxDocumentLength + 1);

        Assert.Equal(["1:1: the document is 262145 characters long; the limit is 262144"], Errors(text));
    }

    [Fact]
    public void garbage_up_to_the_size_limit_is_answered_quickly_with_at_most_a_hundred_and_one_diagnostics()
    {
        var random = new Random(4);
        var chars = new char[RuleCompiler.MaxDocumentLength];
        for (var i = 0; i < chars.Length; i++)
            chars[i] = (char)random.Next(0, 0x3000);

        IReadOnlyList<string> errors = [];
        var cpu = ThreadCpuTime.Measure(() => errors = Errors(new string(chars)));

        Assert.InRange(cpu, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.InRange(errors.Count, 1, 101);
    }
}
