using CsCheck;
using EventSourcedJourneys.Dsl.Parsing;
using EventSourcedJourneys.Dsl.Runtime;
using NodaTime;
using static EventSourcedJourneys.Dsl.Tests.Contacts;

namespace EventSourcedJourneys.Dsl.Tests;

/// <summary>The compiler takes shortcuts for comparisons against literals; whatever the contact holds, a
/// shortcut must give the same answer as the general comparison of two paths.</summary>
public class when_comparing_values
{
    static readonly Gen<Value?> AnyValue = Gen.OneOf<Value?>(
        Gen.Int[-3, 3].Select(n => (Value?)Value.Of(n)),
        Gen.Int[-3, 3].Select(n => (Value?)Value.Of(n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        Gen.OneOf(Gen.Const("a"), Gen.Const("b"), Gen.Const("A"), Gen.Const("")).Select(t => (Value?)Value.Of(t)),
        Gen.Bool.Select(b => (Value?)Value.Of(b)),
        Gen.Const<Value?>(Value.Null),
        Gen.Const((Value?)null),
        Gen.Int[-2, 2].Select(d => (Value?)Value.Of(Now + Duration.FromDays(d))),
        Gen.Const<Value?>(Value.Array(Value.Of("a"), Value.Of(1))));

    static readonly Gen<string> Literal = Gen.OneOf(
        Gen.Int[-3, 3].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.OneOf(Gen.Const("a"), Gen.Const("b"), Gen.Const("1")).Select(TextLiterals.Quote));

    static readonly Gen<string> Operator = Gen.OneOf(Gen.Const("="), Gen.Const("!="), Gen.Const(">"), Gen.Const(">="), Gen.Const("<"), Gen.Const("<="));

    static Value? LiteralValue(string literal) =>
        literal.StartsWith('"') ? Value.Of(literal[1..^1]) : Value.Of(decimal.Parse(literal, System.Globalization.CultureInfo.InvariantCulture));

    static ContactSnapshot With(Value? x, Value? y)
    {
        var traits = new List<(string, Value)>();
        if (x is not null)
            traits.Add(("x", x));
        if (y is not null)
            traits.Add(("y", y));
        return Contact().WithTraits([.. traits]);
    }

    [Fact]
    public void a_comparison_with_a_literal_agrees_with_the_same_comparison_between_two_traits() =>
        Gen.Select(AnyValue, Operator, Literal).Sample((value, op, literal) =>
        {
            // Ordering against a text is a checker error, so only equality is compiled for texts.
            if (literal.StartsWith('"') && op is not ("=" or "!="))
                return;
            var document = RuleCompiler.Compile($"segment fast = traits.x {op} {literal}\nsegment general = traits.x {op} traits.y").Document!;
            var contact = With(value, LiteralValue(literal));

            Assert.Equal(document.FindSegment("general")!.Contains(contact, Now), document.FindSegment("fast")!.Contains(contact, Now));
        }, iter: 3_000, print: t => $"{t.Item1} {t.Item2} {t.Item3}");

    [Fact]
    public void in_a_list_agrees_with_equal_to_any_item() =>
        Gen.Select(AnyValue, Literal.Array[1, 3]).Sample((value, items) =>
        {
            var anyEqual = string.Join(" or ", items.Select(i => $"traits.x = {i}"));
            var document = RuleCompiler.Compile($"segment list = traits.x in [{string.Join(", ", items)}]\nsegment any = {anyEqual}").Document!;
            var contact = With(value, null);

            Assert.Equal(document.FindSegment("any")!.Contains(contact, Now), document.FindSegment("list")!.Contains(contact, Now));
        }, iter: 3_000, print: t => $"{t.Item1} in [{string.Join(", ", t.Item2)}]");

    [Fact]
    public void between_agrees_with_two_comparisons() =>
        Gen.Select(AnyValue, Gen.Int[-3, 3], Gen.Int[-3, 3]).Sample((value, low, high) =>
        {
            var document = RuleCompiler.Compile($"segment ranged = traits.x between {low} and {high}\nsegment both = traits.x >= {low} and traits.x <= {high}").Document!;
            var contact = With(value, null);

            Assert.Equal(document.FindSegment("both")!.Contains(contact, Now), document.FindSegment("ranged")!.Contains(contact, Now));
        }, iter: 2_000, print: t => $"{t.Item1} between {t.Item2} and {t.Item3}");
}
