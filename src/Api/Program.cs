using EventSourcedJourneys.Api.Admin;
using EventSourcedJourneys.Api.Hosting;
using EventSourcedJourneys.Api.Ingestion;
using EventSourcedJourneys.Api.Workspaces;
using EventSourcedJourneys.Api.Reports;
using EventSourcedJourneys.Dispatch.Channels;
using EventSourcedJourneys.Dispatch.Channels.Webhook;
using EventSourcedJourneys.Dispatch.Delivery;
using EventSourcedJourneys.Dispatch.Engine;
using EventSourcedJourneys.Dispatch.Preview;
using EventSourcedJourneys.Dispatch.Templates;
using EventSourcedJourneys.Domain.Contacts;
using EventSourcedJourneys.Dispatch.Rules;
using EventSourcedJourneys.Dispatch.Scheduling;
using EventSourcedJourneys.Dispatch.Segments;
using EventSourcedJourneys.Domain.Messages;
using EventSourcedJourneys.Domain.Time;
using EventSourcedJourneys.Projections;
using EventSourcedJourneys.Projections.Rebuilds;
using EventSourcedJourneys.Projections.Funnels;
using EventSourcedJourneys.Projections.Reports;
using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten;
using JasperFx.MultiTenancy;
using NodaTime;
using Scalar.AspNetCore;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Configuration;
using Wolverine.Runtime.Partitioning;
using Wolverine.Http;
using Wolverine.Marten;

var builder = WebApplication.CreateBuilder(args);

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = RequestBodyLimit.DefaultBytes);

// NodaTime's system clock is read here and only here; everything else takes an IClock.
builder.Services.AddSingleton<IClock>(SystemClock.Instance);
builder.Services.AddSingleton<JourneysDatabase>();
builder.Services.ConfigureHttpJsonOptions(json => JourneysJson.Configure(json.SerializerOptions));
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi();
builder.Services.AddWolverineHttp();
builder.Services.AddSingleton<WorkspaceRegistry>();
builder.Services.AddSingleton<LiveRules>();
builder.Services.AddSingleton<IWorkspaceSettings>(services => services.GetRequiredService<WorkspaceRegistry>());
builder.Services.AddSingleton<IWebhookSecrets>(services => services.GetRequiredService<WorkspaceRegistry>());
builder.Services.AddSingleton<ProfileContactFacts>();
builder.Services.AddSingleton<IContactFacts>(services => services.GetRequiredService<ProfileContactFacts>());
builder.Services.AddSingleton<ITemplateFacts>(services => services.GetRequiredService<ProfileContactFacts>());
builder.Services.AddJourneyTemplates();
builder.Services.AddJourneyChannels(builder.Configuration);
builder.Services.AddSingleton<TriggerEngine>();
builder.Services.AddSegmentMemberships();
builder.Services.AddRulePreviews();
builder.Services.AddFunnelRebuilds();
builder.Services.AddSingleton<FunnelIndexWarmUp>();
builder.Services.AddHostedService(services => services.GetRequiredService<FunnelIndexWarmUp>());
builder.Services.AddReportRebuilds();
builder.Services.AddApiKeyAuthentication();
builder.Services.AddHostedService<DemoWorkspace>();
builder.Services.AddSingleton<OperatorKey>();
builder.Services.AddHostedService(services => services.GetRequiredService<OperatorKey>());
builder.Services.AddProjectionRebuilds();
builder.Services.AddSingleton<ShadowStoreOptions>(services => schema => JourneysStore.Configure(new StoreOptions(),
    services.GetRequiredService<JourneysDatabase>().ConnectionString, services.GetRequiredService<IClock>(), schema));

builder.Services.AddMarten(services => JourneysStore.Configure(new StoreOptions(),
        services.GetRequiredService<JourneysDatabase>().ConnectionString, services.GetRequiredService<IClock>()))
    .UseLightweightSessions()
    .ApplyAllDatabaseChangesOnStartup()
    .IntegrateWithWolverine()
    .AddAsyncDaemon(DaemonMode.HotCold)
    // The engine's subscription: relays to the contacts' lanes only the events a live rule can react to (ADR 0018).
    .SubscribeToEventsWithServices<ReactionsRelay>(ServiceLifetime.Singleton);

builder.Host.UseWolverine(opts =>
{
    opts.ApplicationAssembly = typeof(Program).Assembly;
    opts.Discovery.IncludeAssembly(typeof(MessageDueHandler).Assembly);
    opts.UseRuntimeCompilation();
    opts.UseSystemTextJsonForSerialization(json => JourneysJson.Configure(json));
    opts.Policies.AutoApplyTransactions();
    // Ingestion and the engine append to the same contact streams; a lost race is retried, and the retry sees what
    // the winner wrote (claims make the engine's decisions idempotent).
    opts.OnException<JasperFx.ConcurrencyException>()
        .Or<JasperFx.Events.EventStreamUnexpectedMaxEventIdException>()
        .Or<JasperFx.DocumentAlreadyExistsException>()
        .RetryWithCooldown(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250),
            TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1));
    opts.Policies.UseDurableLocalQueues();
    // One contact's events and messages are handled one at a time, in order (no two decisions race on one contact's
    // stream); different contacts proceed in parallel.
    opts.MessagePartitioning
        .ByMessage<IContactMessage>(message => message.ContactId.ToString())
        .ByMessage<JasperFx.Events.IEvent>(e => e.StreamId.ToString()) // rule publications
        .PublishToPartitionedLocalMessaging("contacts", 4, topology =>
        {
            topology.MessagesImplementing<IContactMessage>();
            topology.MessagesImplementing<JasperFx.Events.IEvent>();
            topology.MaxDegreeOfParallelism = PartitionSlots.Three;
            topology.ConfigureQueues(queue => queue.UseDurableInbox());
        });
    // A wait's lateness is bounded by the poll (docs/benchmarks.md: 250 ms gives a p99 of about 0.6 s at 20 messages/s,
    // 1 s about 0.9 s); a poll is one query.
    opts.Durability.ScheduledJobPollingTime =
        TimeSpan.FromMilliseconds(builder.Configuration.GetValue("Journeys:ScheduledPollingMilliseconds", 250));
    opts.Durability.ScheduledJobFirstExecution = TimeSpan.FromMilliseconds(250);
    // Balanced for several nodes; Solo for one node (a restarted node takes back a killed one's work at once).
    // The embedded default is one node by nature.
    opts.Durability.Mode = builder.Configuration.GetValue("Journeys:Durability:Mode",
        string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Journeys")) ? DurabilityMode.Solo : DurabilityMode.Balanced);
});

var app = builder.Build();

try
{
    await app.Services.GetRequiredService<JourneysDatabase>().OpenAsync();
}
catch (DatabaseUnavailableException e)
{
    Console.Error.WriteLine($"EventSourcedJourneys cannot start: {e.Message}");
    return 1;
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestBodyLimit();
app.UseWriteKeyFromBody();
app.UseAuthentication();
app.UseAuthorization();

app.MapOpenApi();
app.MapScalarApiReference();
app.MapGet("/", () => Results.Redirect("/scalar")).ExcludeFromDescription();
app.MapWolverineEndpoints(http =>
{
    // '?limit=abc' is a 400 ProblemDetails naming the parameter, not a silent default (Wolverine 6 binds the default otherwise).
    http.RejectUnparseableQueryValues = true;
    http.TenantId.IsClaimTypeNamed(WorkspaceClaims.Workspace);
    http.TenantId.AssertExists();
    // Every endpoint needs a key; those that name their own policy (the tracking API admits write keys) keep only it.
    http.ConfigureEndpoints(endpoint =>
    {
        if (!endpoint.Method.Method.IsDefined(typeof(Microsoft.AspNetCore.Authorization.AuthorizeAttribute), true))
            endpoint.RequireAuthorization();
    });
});

// Our `projections` command rebuilds every read model blue/green; JasperFx's built-in one would empty live tables.
if (ProjectionsCommand.Handles(args))
{
    await using (app)
        return await ProjectionsCommand.RunAsync(app.Services, args, Console.Out, Console.Error);
}

return await app.RunJasperFxCommands(args);

public partial class Program;
