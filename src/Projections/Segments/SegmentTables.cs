using Marten;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourcedJourneys.Projections.Segments;

/// <summary>
/// Segment membership lives in two plain tables beside Marten's, because a rebuild writes millions of rows with
/// COPY and reads page through them by contact id (ADR 0011):
/// <c>segment_members</c> (one row per member per generation) and <c>segment_sizes</c> (the net change of a segment's
/// size per day, so the size on any day is the running sum; per <see cref="SegmentCatalog.Lineage"/>).
/// </summary>
public static class SegmentTables
{
    public const string Members = "segment_members";
    public const string Sizes = "segment_sizes";

    public static StoreOptions AddSegmentMemberships(this StoreOptions options)
    {
        options.Schema.For<SegmentCatalog>();
        options.Schema.For<SegmentReviewPlan>();

        var members = new Table($"{options.DatabaseSchemaName}.{Members}");
        members.AddColumn<Guid>("generation").AsPrimaryKey();
        members.AddColumn<Guid>("contact_id").AsPrimaryKey();
        members.AddColumn<string>("tenant_id").NotNull();
        members.AddColumn<DateTimeOffset>("since").NotNull();
        members.Indexes.Add(new IndexDefinition($"ix_{Members}_contact") { Columns = ["tenant_id", "contact_id"] });
        options.Storage.ExtendedSchemaObjects.Add(members);

        var sizes = new Table($"{options.DatabaseSchemaName}.{Sizes}");
        sizes.AddColumn<Guid>("lineage").AsPrimaryKey();
        sizes.AddColumn<string>("segment").AsPrimaryKey();
        sizes.AddColumn("day", "date").AsPrimaryKey();
        sizes.AddColumn<string>("tenant_id").NotNull();
        sizes.AddColumn<long>("delta").NotNull();
        options.Storage.ExtendedSchemaObjects.Add(sizes);
        return options;
    }

    public static string Qualified(string schema, string table) => $"{schema}.{table}";
}
