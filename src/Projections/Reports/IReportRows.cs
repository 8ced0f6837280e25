namespace EventSourcedJourneys.Projections.Reports;

/// <summary>What a batch of events changes in one report read model, written as one merging upsert.</summary>
public interface IReportRows
{
    /// <summary>The read model's name (<see cref="CampaignReport.Name"/>, <see cref="AttributionReport.Name"/>).</summary>
    string ReadModel { get; }

    bool IsEmpty { get; }

    /// <summary>Takes in one stored event of workspace <paramref name="tenant"/> (events it does not read are ignored).</summary>
    void Add(string tenant, object data);

    /// <summary>The upsert into the generations selected by <paramref name="generations"/> (SQL yielding a <c>generation</c> column),
    /// with <c>?</c> placeholders and their values.</summary>
    (string Sql, object[] Parameters) Upsert(string generations);
}
