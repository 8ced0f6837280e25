using CsCheck;
using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Formatting;
using EventSourcedJourneys.Dsl.Parsing;
using EventSourcedJourneys.Dsl.Tests.Examples;

namespace EventSourcedJourneys.Dsl.Tests;

public class when_formatting
{
    static RuleDocument Parse(string text)
    {
        Assert.True(RuleParser.TryParse(text, out var document, out var diagnostics), text + "\n" + string.Join("\n", diagnostics));
        return document;
    }

    [Fact]
    public void any_generated_tree_survives_format_then_parse_unchanged() =>
        SyntaxGenerators.Document.Sample(
            document => Assert.Equal(document, Parse(RuleFormatter.Format(document))),
            iter: 2_000,
            print: RuleFormatter.Format);

    [Fact]
    public void formatting_is_stable_once_formatted() =>
        SyntaxGenerators.Document.Sample(
            document =>
            {
                var once = RuleFormatter.Format(document);
                Assert.Equal(once, RuleFormatter.Format(Parse(once)));
            },
            iter: 2_000,
            print: RuleFormatter.Format);

    [Fact]
    public void the_issue_examples_format_into_the_canonical_layout()
    {
        var formatted = RuleFormatter.Format(Parse(ExampleFiles.IssueExamples));

        Assert.Equal(ExampleFiles.Read("issue-examples.formatted.rules"), formatted);
        Assert.Equal(Parse(ExampleFiles.IssueExamples), Parse(formatted));
    }

    [Fact]
    public void nested_lists_keep_their_parentheses_and_redundant_ones_are_dropped() =>
        Assert.Equal(
            "segment s =\n    (segment a or segment b)\n    and not (segment c and segment d)\n    and segment e\n",
            RuleFormatter.Format(Parse("segment s = ((segment a or segment b)) and not (segment c and segment d) and (segment e)")));

    [Fact]
    public void texts_are_escaped_so_they_read_back_the_same() =>
        Assert.Equal(
            "segment s =\n    traits.\"first name\" = \"say \\\"hi\\\"\\n\\u0001\"\n",
            RuleFormatter.Format(new RuleDocument(NodeList.Of<Rule>(new SegmentRule("s",
                new Comparison(new PathOperand(PathRoot.Traits, NodeList.Of("first name")), ComparisonOperator.Equal, new TextLiteral("say \"hi\"\n\u0001")))))));
}
