// Sends a short "app installed → registered" story through the real @segment/analytics-node SDK.
// Environment: JOURNEYS_HOST (server or proxy base URL), JOURNEYS_WRITE_KEY, RUN_ID (makes ids unique).
// Prints one JSON line with what the SDK reported; exits 1 if the SDK reported an error.
import { Analytics } from '@segment/analytics-node'

const host = process.env.JOURNEYS_HOST
const writeKey = process.env.JOURNEYS_WRITE_KEY
const run = process.env.RUN_ID ?? 'run'
if (!host || !writeKey) {
  console.error('JOURNEYS_HOST and JOURNEYS_WRITE_KEY are required')
  process.exit(2)
}

// flushAt 5: ten calls go out as two batches (the SDK's own batching); maxRetries 3 with the SDK's backoff. The request
// timeout is generous so that a slow, loaded machine does not add retries of its own to the one the proxy provokes.
const analytics = new Analytics({ writeKey, host, flushAt: 5, flushInterval: 10000, maxRetries: 3, httpRequestTimeout: 60000 })
const requests = []
const errors = []
analytics.on('http_request', (request) => requests.push(JSON.parse(request.body).batch.length))
analytics.on('error', (error) => errors.push(String(error?.reason ?? error?.message ?? error)))

const anonymousId = `${run}-device`
const userId = `${run}-user`
analytics.track({ anonymousId, event: 'App Installed', properties: { store: 'app-store' }, context: { timezone: 'Europe/Paris', device: { token: `${run}-push-token`, type: 'ios' } } })
analytics.screen({ anonymousId, name: 'Welcome' })
analytics.page({ anonymousId, name: 'Pricing', properties: { plan: 'pro' } })
analytics.track({ anonymousId, event: 'Signup Started' })
analytics.identify({ anonymousId, userId, traits: { email: `${run}@example.com`, plan: 'trial' } })
analytics.track({ userId, event: 'Registered' })
analytics.group({ userId, groupId: `${run}-company`, traits: { name: 'Acme' } })
analytics.track({ userId, event: 'Order Completed', properties: { total: 120.5, currency: 'EUR' } })
analytics.track({ userId, event: 'Unsubscribed', properties: { channel: 'sms' } })
analytics.alias({ previousId: `${run}-legacy`, userId })

await analytics.closeAndFlush({ timeout: 120000 })
console.log(JSON.stringify({ requests, errors }))
process.exit(errors.length === 0 ? 0 : 1)
