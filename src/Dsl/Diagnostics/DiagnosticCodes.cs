namespace EventSourcedJourneys.Dsl.Diagnostics;

/// <summary>Stable codes, so the API and the UI can react to a kind of problem without parsing messages.</summary>
public static class DiagnosticCodes
{
    public const string DocumentTooLarge = "DSL001";
    public const string InvalidCharacter = "DSL002";
    public const string UnterminatedText = "DSL003";
    public const string Syntax = "DSL004";
    public const string TooDeeplyNested = "DSL005";
    public const string NotSupportedYet = "DSL006";
    public const string TooManyProblems = "DSL007";
    public const string DuplicateName = "DSL100";
    public const string UnknownSegment = "DSL101";
    public const string SegmentCycle = "DSL102";
    public const string TypeMismatch = "DSL103";
    public const string ImpossibleWindow = "DSL104";
    public const string DurationOutOfRange = "DSL105";
    public const string MisplacedPath = "DSL106";
    public const string TriggerShape = "DSL107";
    public const string UnknownChannel = "DSL108";
    public const string ControlGroupOutOfRange = "DSL109";
    public const string TooLargeToEvaluate = "DSL110";
    public const string InternalError = "DSL900";
}
