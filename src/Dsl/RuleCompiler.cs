namespace EventSourcedJourneys.Dsl;

public static partial class RuleCompiler
{
    /// <summary>Longest document accepted, in characters (256 KiB). The API answers 413 above it.</summary>
    public const int MaxDocumentLength = 256 * 1024;
}
