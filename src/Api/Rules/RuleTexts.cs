using System.Security.Cryptography;
using System.Text;
using EventSourcedJourneys.Dsl;
using EventSourcedJourneys.Dsl.Diagnostics;
using EventSourcedJourneys.Projections.Rules;
using Marten;
using Microsoft.AspNetCore.Mvc;

namespace EventSourcedJourneys.Api.Rules;

/// <summary>A diagnostic as the API shows it: where (line:column, offset and length), what, and what was expected.</summary>
public sealed record DiagnosticView(string Code, string Message, int Line, int Column, int Start, int Length, IReadOnlyList<string> Expected)
{
    public static DiagnosticView From(Diagnostic d) => new(d.Code, d.Message, d.Line, d.Column, d.Start, d.Length, d.Expected);
}

/// <summary>One rule of a document, with the part of the text that defines it.</summary>
public sealed record RuleSource(string Name, string Kind, int Line, string Text);

/// <summary>Rule names, hashes, and compiling a text in the context of a workspace's other rules.</summary>
public static class RuleTexts
{
    public const int MaxNameLength = 100;

    /// <summary>The name a rule has in the API: its own, or for policies "frequency_cap" / "quiet_hours".</summary>
    public static string ApiName(RuleSummary rule) => rule.Kind == RuleKind.Policy ? rule.Name.Replace(' ', '_') : rule.Name;

    public static string KindName(RuleKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>The DSL's own names: letters (of any alphabet and plane), digits and '_', not starting with a digit;
    /// half a surrogate pair reads as U+FFFD, which is neither.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength
        && Rune.DecodeFromUtf16(name, out var first, out _) == System.Buffers.OperationStatus.Done
        && (Rune.IsLetter(first) || first.Value == '_')
        && name.EnumerateRunes().All(r => Rune.IsLetterOrDigit(r) || r.Value == '_');

    public static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    /// <summary>The latest text of every rule not archived, except those named — the context a draft is checked in.</summary>
    public static async Task<IReadOnlyList<string>> DraftContextAsync(IQuerySession session, ISet<string> except, CancellationToken cancellation)
    {
        // Filtered here, not in SQL: enums are stored by name (JourneysJson) while Marten's LINQ compares numbers.
        var rules = await session.Query<RuleState>().ToListAsync(cancellation);
        return rules.Where(r => r.Status != RuleStatus.Archived && !except.Contains(r.Name)).OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => r.Versions[^1].Text).ToList();
    }

    /// <summary>
    /// Compiles <paramref name="text"/> on its own for syntax, then with <paramref name="context"/> appended after it so
    /// that references to other rules resolve while every position reported still points into the text. Problems that
    /// lie only in the context are not the text's and are left out.
    /// </summary>
    public static (IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<RuleSummary> Rules) CompileInContext(
        string text, IReadOnlyList<string> context)
    {
        var alone = RuleCompiler.Compile(text);
        var syntax = alone.Diagnostics.Where(IsSyntax).ToList();
        if (syntax.Count > 0 || context.Count == 0) return (syntax.Count > 0 ? syntax : alone.Diagnostics, alone.Rules);

        var together = RuleCompiler.Compile(text + "\n\n" + string.Join("\n\n", context));
        return (together.Diagnostics.Where(d => d.Start <= text.Length).ToList(), alone.Rules);
    }

    private static bool IsSyntax(Diagnostic d) => string.CompareOrdinal(d.Code, DiagnosticCodes.DuplicateName) < 0
                                                  || d.Code == DiagnosticCodes.InternalError;

    /// <summary>Cuts a document into the texts of its rules: each runs from its first line to the line before the next
    /// rule, without trailing blank lines; comment lines just above a rule belong to that rule.</summary>
    public static IReadOnlyList<RuleSource> Split(string text, IReadOnlyList<RuleSummary> rules)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var ordered = rules.OrderBy(r => r.Line).ToList();
        var starts = ordered.Select(r => r.Line - 1).ToList();
        for (var i = 1; i < starts.Count; i++)
        {
            while (starts[i] - 1 > starts[i - 1] && lines[starts[i] - 1].TrimStart().StartsWith('#')) starts[i]--;
        }

        var sources = new List<RuleSource>();
        for (var i = 0; i < ordered.Count; i++)
        {
            var end = i + 1 < starts.Count ? starts[i + 1] : lines.Length;
            var body = lines[starts[i]..end].ToList();
            while (body.Count > 0 && string.IsNullOrWhiteSpace(body[^1])) body.RemoveAt(body.Count - 1);
            sources.Add(new RuleSource(ApiName(ordered[i]), KindName(ordered[i].Kind), ordered[i].Line, string.Join('\n', body)));
        }
        return sources;
    }

    public static ProblemDetails Problem(int status, string title, string detail, IEnumerable<Diagnostic>? diagnostics = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (diagnostics is not null)
        {
            var list = diagnostics.ToList();
            problem.Extensions["diagnostics"] = list.Select(DiagnosticView.From).ToList();
            if (list.Count > 0) problem.Detail = $"{detail} {string.Join(" ", list.Take(5).Select(d => $"{d.Line}:{d.Column}: {d.Message}."))}";
        }
        return problem;
    }
}
