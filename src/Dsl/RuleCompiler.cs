using EventSourcedJourneys.Dsl.Ast;
using EventSourcedJourneys.Dsl.Checking;
using EventSourcedJourneys.Dsl.Compilation;
using EventSourcedJourneys.Dsl.Diagnostics;
using EventSourcedJourneys.Dsl.Parsing;

namespace EventSourcedJourneys.Dsl;

public enum RuleKind
{
    Segment,
    Trigger,
    Policy,
    Funnel,
}

/// <summary>One rule found in a document, for listings such as <c>POST /rules/validate</c>.</summary>
public sealed record RuleSummary(string Name, RuleKind Kind, int Line);

/// <summary>The outcome of compiling a document. <see cref="Document"/> is set only when there are no diagnostics;
/// <see cref="Rules"/> lists the rules that could be read even when others could not.</summary>
public sealed record CompilationResult(
    bool Succeeded,
    IReadOnlyList<Diagnostic> Diagnostics,
    CompiledDocument? Document,
    IReadOnlyList<RuleSummary> Rules);

/// <summary>
/// The DSL's front door: text in, diagnostics and compiled rules out. Never throws, for any input;
/// documents longer than <see cref="MaxDocumentLength"/> are refused with a diagnostic.
/// </summary>
public static class RuleCompiler
{
    /// <summary>Longest document accepted, in characters (256 KiB). The API answers 413 above it.</summary>
    public const int MaxDocumentLength = 256 * 1024;

    public static CompilationResult Compile(string? text)
    {
        try
        {
            var parsed = RuleParser.Parse(text);
            var rules = Summaries(parsed.Document, parsed.Spans);
            if (parsed.Diagnostics.Any(d => d.Code is DiagnosticCodes.DocumentTooLarge or DiagnosticCodes.InternalError))
                return new CompilationResult(false, parsed.Diagnostics, null, rules);

            var checkedDiagnostics = RuleChecker.Check(parsed.Document, parsed.Spans, parsed.NamesOfBrokenRules);
            var diagnostics = parsed.Diagnostics.Concat(checkedDiagnostics)
                .OrderBy(d => d.Start)
                .Take(DiagnosticBag.MaxDiagnostics + 1)
                .ToArray();
            if (diagnostics.Length > 0)
                return new CompilationResult(false, diagnostics, null, rules);

            return new CompilationResult(true, [], DocumentCompiler.Compile(parsed.Document, parsed.Spans), rules);
        }
        catch (Exception e)
        {
            // The contract is "diagnostics, never an exception"; a defect here must not take the API down.
            var diagnostic = new Diagnostic(DiagnosticCodes.InternalError, $"the rules could not be compiled ({e.GetType().Name})", 1, 1, 0, 0, []);
            return new CompilationResult(false, [diagnostic], null, []);
        }
    }

    static RuleSummary[] Summaries(RuleDocument document, SourceMap spans)
    {
        int LineOf(Rule rule) => spans.Find(rule)?.Line ?? 0;
        return document.Rules
            .Select(rule => rule switch
            {
                SegmentRule s => new RuleSummary(s.Name, RuleKind.Segment, LineOf(s)),
                TriggerRule t => new RuleSummary(t.Name, RuleKind.Trigger, LineOf(t)),
                FunnelRule f => new RuleSummary(f.Name, RuleKind.Funnel, LineOf(f)),
                FrequencyCapPolicy p => new RuleSummary("frequency cap", RuleKind.Policy, LineOf(p)),
                _ => new RuleSummary("quiet hours", RuleKind.Policy, LineOf(rule)),
            })
            .ToArray();
    }
}
