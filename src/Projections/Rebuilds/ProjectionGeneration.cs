using Marten;
using NodaTime;

namespace EventSourcedJourneys.Projections.Rebuilds;

/// <summary>
/// How many times a read model has been rebuilt and when it last was: generation 0 is the data built by live
/// processing since the start; each completed rebuild replaces the data with generation + 1. One document per read
/// model for the whole deployment (not per workspace).
/// </summary>
public sealed record ProjectionGeneration(string Id, int Generation, Instant RebuiltAt, long Events, Duration Took);

public static class ProjectionRebuildsStorage
{
    public static StoreOptions AddProjectionRebuilds(this StoreOptions options)
    {
        options.Schema.For<ProjectionGeneration>().SingleTenanted();
        return options;
    }
}
