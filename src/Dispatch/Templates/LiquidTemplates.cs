using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fluid;
using Fluid.Ast;
using Fluid.Values;
using Microsoft.Extensions.FileProviders;
using NodaTime;
using NodaTime.Text;

namespace EventSourcedJourneys.Dispatch.Templates;

/// <summary>A Liquid mistake in one field of a template, with the position Fluid reported (1-based) when it has one.</summary>
public sealed record TemplateProblem(string Field, string Message, int? Line = null, int? Column = null)
{
    public override string ToString() => Line is null ? $"{Field}: {Message}" : $"{Field} {Line}:{Column}: {Message}";
}

/// <summary>
/// Fluid set up for untrusted marketer input: no file system (no <c>include</c>/<c>render</c> of files), no CLR
/// members (models are JSON trees only), unknown filters refused, a bounded number of steps and recursion depth,
/// invariant culture. Parsed templates are cached by their source text.
/// </summary>
public sealed partial class LiquidTemplates
{
    /// <summary>Loops, filters and outputs one render may execute; enough for any message, not for a runaway loop.</summary>
    public const int MaxSteps = 100_000;

    public const int MaxRecursion = 20;

    public const int MaxSourceCharacters = 100_000;

    private const int CacheCapacity = 10_000;

    private readonly FluidParser parser = new();
    private readonly ConcurrentDictionary<string, IFluidTemplate> cache = new(StringComparer.Ordinal);

    public TemplateOptions Options { get; }

    public LiquidTemplates()
    {
        Options = new TemplateOptions
        {
            FileProvider = new NullFileProvider(),
            MemberAccessStrategy = new DefaultMemberAccessStrategy(),
            StrictFilters = true,
            MaxSteps = MaxSteps,
            MaxRecursion = MaxRecursion,
            CultureInfo = CultureInfo.InvariantCulture,
            TimeZone = TimeZoneInfo.Utc,
        };
        Options.ValueConverters.Add(value => value is JsonElement json ? FromJson(json) : null);
        Options.Filters.AddFilter("local", Local);
    }

    private const string ZoneKey = "journeys.zone";

    /// <summary>
    /// <c>{{ properties.due | local | date: '%d %b %H:%M' }}</c>: a date (an ISO-8601 string or a date value) moved to
    /// the contact's zone with NodaTime's TZDB rules, so it prints as the contact's wall-clock time. Text that is no
    /// date passes through unchanged, as Liquid's own <c>date</c> filter does.
    /// </summary>
    private static ValueTask<FluidValue> Local(FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        var zone = context.AmbientValues.TryGetValue(ZoneKey, out var z) && z is DateTimeZone dz ? dz : DateTimeZone.Utc;
        Instant? instant = input switch
        {
            DateTimeValue date => Instant.FromDateTimeOffset((DateTimeOffset)date.ToObjectValue()),
            _ when OffsetDateTimePattern.ExtendedIso.Parse(input.ToStringValue()) is { Success: true } parsed => parsed.Value.ToInstant(),
            _ => null,
        };
        return instant is { } i ? new DateTimeValue(i.InZone(zone).ToDateTimeOffset()) : input;
    }

    /// <summary>Parses one field's source; a mistake comes back with Fluid's message and position, never thrown.
    /// (Not named TryParse: Wolverine HTTP would take a type with a static-looking TryParse for a route value.)</summary>
    public bool TryParseField(string field, string source, out IFluidTemplate template, out TemplateProblem? problem)
    {
        problem = null;
        if (source.Length > MaxSourceCharacters)
        {
            template = null!;
            problem = new TemplateProblem(field, $"A template field may have at most {MaxSourceCharacters:N0} characters.");
            return false;
        }
        if (cache.TryGetValue(source, out template!)) return true;
        if (!parser.TryParse(source, out template, out var error))
        {
            problem = ToProblem(field, error);
            return false;
        }
        if (UnknownFilters(template) is { Count: > 0 } unknown)
        {
            problem = new TemplateProblem(field,
                $"Unknown filter{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(f => $"'{f}'"))}");
            return false;
        }
        if (cache.Count >= CacheCapacity) cache.Clear();
        cache[source] = template;
        return true;
    }

    /// <summary>Every problem of every field of <paramref name="template"/>.</summary>
    public IReadOnlyList<TemplateProblem> Check(IEnumerable<(string Field, string Source)> sources)
    {
        var problems = new List<TemplateProblem>();
        foreach (var (field, source) in sources)
        {
            if (!TryParseField(field, source, out _, out var problem)) problems.Add(problem!);
        }
        return problems;
    }

    /// <summary>
    /// Renders a parsed template into at most <paramref name="maxCharacters"/> characters. Output is HTML-encoded
    /// only for HTML parts. Returns null and an error message for a runtime error or an output over the limit.
    /// </summary>
    public (string? Output, string? Error, bool TooLong) Render(IFluidTemplate template, TemplateContext context, bool html, int maxCharacters)
    {
        using var writer = new BoundedWriter(maxCharacters);
        try
        {
            // Nothing in a template waits on I/O (no includes, no async filters), so the render completes synchronously.
            var rendering = template.RenderAsync(writer, html ? HtmlEncoder.Default : NullEncoder.Default, context);
            if (!rendering.IsCompletedSuccessfully) rendering.AsTask().GetAwaiter().GetResult();
            return (writer.ToString(), null, false);
        }
        catch (OutputTooLongException)
        {
            return (null, $"The output is longer than the {maxCharacters:N0} characters this channel allows.", true);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("maximum", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"The template ran past its limit of {MaxSteps:N0} steps or {MaxRecursion} levels of recursion.", false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Filters throw what they throw (FluidException, FormatException, OverflowException, …): all are the
            // template's content meeting this model, recorded as a failure rather than thrown at the engine.
            return (null, e.Message, false);
        }
    }

    /// <summary>A fresh context for one render: the model's values, the contact's zone and the decision's now.</summary>
    public TemplateContext NewContext(IReadOnlyDictionary<string, FluidValue> values, DateTimeZone zone, Instant now)
    {
        var context = new TemplateContext(Options)
        {
            // Fluid reads dates written without an offset in this zone; NodaTime's rules are the ones the engine
            // decides send windows with, so its zone is also kept for the 'local' filter.
            TimeZone = TimeZoneInfo.TryFindSystemTimeZoneById(zone.Id, out var info) ? info : TimeZoneInfo.Utc,
            Now = () => now.InZone(zone).ToDateTimeOffset(),
            CultureInfo = CultureInfo.InvariantCulture,
        };
        context.AmbientValues[ZoneKey] = zone;
        foreach (var (name, value) in values) context.SetValue(name, value);
        return context;
    }

    public static FluidValue FromJson(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Object => new DictionaryValue(new FluidValueDictionaryFluidIndexable(
            json.EnumerateObject().GroupBy(p => p.Name, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => FromJson(g.Last().Value), StringComparer.Ordinal))),
        JsonValueKind.Array => new ArrayValue(json.EnumerateArray().Select(FromJson).ToList()),
        JsonValueKind.String => StringValue.Create(json.GetString()!),
        JsonValueKind.Number => json.TryGetDecimal(out var number) ? NumberValue.Create(number) : StringValue.Create(json.GetRawText()),
        JsonValueKind.True => BooleanValue.True,
        JsonValueKind.False => BooleanValue.False,
        _ => NilValue.Instance,
    };

    public static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    private List<string> UnknownFilters(IFluidTemplate template)
    {
        var names = new FilterNames();
        names.VisitTemplate(template);
        return names.Names.Where(n => !Options.Filters.TryGetValue(n, out _)).Distinct(StringComparer.Ordinal).ToList();
    }

    private static TemplateProblem ToProblem(string field, string error)
    {
        // Fluid: "End of tag '}}' was expected at (1:11)\nSource:\nHi {{ name " — keep the message, take the position.
        var message = error.Split('\n')[0].Trim();
        var position = Position().Match(message);
        if (!position.Success) return new TemplateProblem(field, message);
        return new TemplateProblem(field, message[..position.Index].TrimEnd(),
            int.Parse(position.Groups[1].Value, CultureInfo.InvariantCulture),
            int.Parse(position.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"\s*at \((\d+):(\d+)\)\s*$")]
    private static partial Regex Position();

    private sealed class FilterNames : AstVisitor
    {
        public List<string> Names { get; } = [];

        protected override Expression VisitFilterExpression(FilterExpression filterExpression)
        {
            Names.Add(filterExpression.Name);
            return base.VisitFilterExpression(filterExpression);
        }
    }

    private sealed class OutputTooLongException : Exception;

    /// <summary>Stops a render as soon as it passes the channel's limit, so a loop cannot build megabytes first.</summary>
    private sealed class BoundedWriter(int maxCharacters) : StringWriter(CultureInfo.InvariantCulture)
    {
        public override void Write(char value)
        {
            Check(1);
            base.Write(value);
        }

        public override void Write(string? value)
        {
            Check(value?.Length ?? 0);
            base.Write(value);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            Check(count);
            base.Write(buffer, index, count);
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            Check(buffer.Length);
            base.Write(buffer);
        }

        private void Check(int adding)
        {
            if (GetStringBuilder().Length + adding > maxCharacters) throw new OutputTooLongException();
        }
    }
}
