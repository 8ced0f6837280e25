using EventSourcedJourneys.Projections.Messages;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace EventSourcedJourneys.Api.Messages;

public static class GetMessageEndpoint
{
    [WolverineGet("/messages/{messageId}", Name = "GetMessage")]
    [Tags("Messages")]
    public static Task<ScheduledMessage?> Get(Guid messageId, IQuerySession session, CancellationToken cancellation) =>
        session.LoadAsync<ScheduledMessage>(messageId, cancellation);
}
