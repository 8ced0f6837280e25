namespace EventSourcedJourneys.Dsl.Compilation;

/// <summary>Workspace-wide settings; both apply to non-transactional messages only.</summary>
public sealed record WorkspacePolicies(IReadOnlyList<FrequencyCap> FrequencyCaps, QuietHours? QuietHours)
{
    public static WorkspacePolicies None { get; } = new([], null);

    /// <summary>The send window of triggers that name none: the hours outside quiet hours, if any.</summary>
    public SendWindow? DefaultSendWindow => QuietHours?.AsSendWindow();
}
