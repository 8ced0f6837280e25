using System.Diagnostics;
using System.Text;
using EventSourcedJourneys.Dsl.Diagnostics;
using EventSourcedJourneys.Dsl.Runtime;
using EventSourcedJourneys.Dsl.Tests.Examples;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>Random edits of the issue examples (fixed seeds, so a failure reproduces): whatever the text,
/// compiling answers quickly with diagnostics that point inside it, or with rules that evaluate.</summary>
public class when_fuzzing_the_examples
{
    static readonly string[] Vocabulary =
    [
        "segment", "trigger", "policy", "funnel", "journey", "end", "on", "event", "date", "where", "wait", "cancel", "if",
        "audience", "send", "between", "and", "or", "not", "in", "last", "ever", "since", "entry", "count", "sum", "min",
        "max", "avg", "first", "of", "at", "most", "per", "active", "from", "to", "goal", "within", "revenue", "transactional",
        "frequency", "cap", "quiet", "hours", "local", "workspace", "minus", "plus", "contains", "starts", "with", "exists",
        "traits", "properties", "context", "ago", "(", ")", "[", "]", ",", ".", "->", "=", "!=", ">", ">=", "<", "<=",
        "\"", "\"x\"", "\\", "#", "\n", " ", "0", "-1", "30d", "0s", "99999999999d", "25:00", "2026-02-30", "1.5", "1e5",
        "\u0000", "\u0007", "\u00a0", "\u2028", "订单", "😀", "\ud800", "(((((", ")))))", "not not not",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void random_edits_never_throw_and_every_diagnostic_points_inside_the_text(int seed)
    {
        var random = new Random(seed);
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 1_000; i++)
        {
            var text = Mutate(ExampleFiles.IssueExamples, random);

            // CPU time of this thread, not wall-clock time: a shared machine's other work must not fail the test.
            CompilationResult result = null!;
            var cpu = ThreadCpuTime.Measure(() => result = RuleCompiler.Compile(text));
            slowest = cpu > slowest ? cpu : slowest;

            Assert.Equal(result.Succeeded, result.Diagnostics.Count == 0);
            Assert.Equal(result.Succeeded, result.Document is not null);
            foreach (var diagnostic in result.Diagnostics)
            {
                Assert.NotEqual(DiagnosticCodes.InternalError, diagnostic.Code);
                AssertPointsInside(text, diagnostic);
            }
            if (result.Document is { } document)
                EvaluateEverything(document);
        }
        Assert.InRange(slowest, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void random_word_sequences_never_throw_and_every_diagnostic_points_inside_the_text(int seed)
    {
        var random = new Random(seed);
        string[] starts = ["segment s =", "trigger t", "policy", "funnel f ="];
        for (var i = 0; i < 1_000; i++)
        {
            var words = Enumerable.Range(0, random.Next(1, 40)).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]);
            var text = starts[random.Next(starts.Length)] + " " + string.Join(" ", words);

            var result = RuleCompiler.Compile(text);

            foreach (var diagnostic in result.Diagnostics)
            {
                Assert.NotEqual(DiagnosticCodes.InternalError, diagnostic.Code);
                AssertPointsInside(text, diagnostic);
            }
            if (result.Document is { } document)
                EvaluateEverything(document);
        }
    }

    static string Mutate(string text, Random random)
    {
        var builder = new StringBuilder(text);
        var edits = random.Next(1, 6);
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(0, builder.Length + 1);
            switch (random.Next(5))
            {
                case 0:
                    builder.Remove(at, Math.Min(random.Next(1, 40), builder.Length - at));
                    break;
                case 1:
                    builder.Insert(at, Vocabulary[random.Next(Vocabulary.Length)]);
                    break;
                case 2:
                    builder.Insert(at, (char)random.Next(0, 0x3000));
                    break;
                case 3:
                    var from = random.Next(0, builder.Length);
                    builder.Insert(at, builder.ToString(from, Math.Min(random.Next(1, 60), builder.Length - from)));
                    break;
                default:
                    builder.Length = at;
                    break;
            }
        }
        return builder.ToString();
    }

    static void AssertPointsInside(string text, Diagnostic diagnostic)
    {
        Assert.InRange(diagnostic.Start, 0, text.Length);
        Assert.InRange(diagnostic.Length, 0, text.Length - diagnostic.Start);
        Assert.False(string.IsNullOrWhiteSpace(diagnostic.Message));
        var line = 1 + text.AsSpan(0, diagnostic.Start).Count('\n');
        var column = diagnostic.Start - (text.LastIndexOf('\n', Math.Max(0, diagnostic.Start - 1)) is var nl && nl >= 0 && nl < diagnostic.Start ? nl + 1 : 0) + 1;
        Assert.Equal((line, column), (diagnostic.Line, diagnostic.Column));
    }

    static void EvaluateEverything(Compilation.CompiledDocument document)
    {
        var contact = Contact(
                Event("order_completed", Days(3), ("total", Value.Of(120))),
                Event("app_opened", Days(40)),
                Event("cart_updated", Days(0), ("total", Value.Of("150"))))
            .WithTraits(("gender", Value.Of("female")), ("age", Value.Of(40)), ("vip_expires_at", Value.Of("2027-01-31")));
        foreach (var segment in document.Segments)
            segment.Contains(contact, Now);
        foreach (var trigger in document.Triggers)
        {
            foreach (var e in contact.Events)
            {
                trigger.MatchesEvent(e, contact, Now);
                trigger.IsCancelledBy(e, contact, Now, Now - Days(1));
            }
            trigger.Audience?.Includes(contact, Now, Now - Days(1));
            trigger.OnDate?.OccurrencesFor(contact, NodaTime.DateTimeZone.Utc);
        }
    }
}
