// A chat room as one Lambda function, served locally through the Lambda Invoke API
// (POST /2015-03-31/functions/chat/invocations), the way `sam local start-lambda` or the Lambda
// runtime interface emulator serve functions. Portico calls it for the routes $connect,
// $disconnect, sendmessage and $default (AWS_PROXY); it answers the room through the
// @connections management API with the AWS SDK, exactly as it would on AWS API Gateway.
//
//   PORT              where the Invoke API listens (default 9001)
//   HOST              its address (default 127.0.0.1)
//   PORTICO_ENDPOINT  the stage's management endpoint (default http://127.0.0.1:8080/dev)
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
//                     the SigV4 credentials Portico knows (default: the sample's)
import http from 'node:http';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';

const PORT = Number(process.env.PORT ?? 9001);
const HOST = process.env.HOST ?? '127.0.0.1';
const ENDPOINT = process.env.PORTICO_ENDPOINT ?? 'http://127.0.0.1:8080/dev';

const management = new ApiGatewayManagementApiClient({
  endpoint: ENDPOINT,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'AKIDEXAMPLE',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  },
  maxAttempts: 2,
});

/* ---- The function: what would be deployed to Lambda ---- */

const connections = new Set(); // the room: connection ids, in memory

const log = (...args) => console.log(new Date().toISOString(), ...args);

async function broadcast(data) {
  const payload = Buffer.from(data, 'utf8');
  await Promise.all(
    [...connections].map(async (id) => {
      try {
        await management.send(new PostToConnectionCommand({ ConnectionId: id, Data: payload }));
      } catch (err) {
        if (err.name === 'GoneException') {
          log(`gone: ${id}`);
          connections.delete(id); // the client left without us hearing of it
        } else {
          log(`post to ${id} failed: ${err.name}: ${err.message}`);
        }
      }
    }),
  );
}

export async function handler(event) {
  const { routeKey, connectionId } = event.requestContext;
  switch (routeKey) {
    case '$connect':
      connections.add(connectionId);
      log(`connect ${connectionId} (${connections.size} in the room)`);
      return { statusCode: 200 };
    case '$disconnect':
      connections.delete(connectionId);
      log(`disconnect ${connectionId} (${event.requestContext.disconnectStatusCode}) (${connections.size} in the room)`);
      return { statusCode: 200 };
    case 'sendmessage': {
      let data;
      try {
        data = JSON.parse(event.body).data;
      } catch {
        return { statusCode: 400, body: 'expected {"action":"sendmessage","data":"..."}' };
      }
      if (data === undefined) return { statusCode: 400, body: 'expected {"action":"sendmessage","data":"..."}' };
      await broadcast(typeof data === 'string' ? data : JSON.stringify(data));
      return { statusCode: 200 };
    }
    default:
      return { statusCode: 200, body: 'Send {"action":"sendmessage","data":"your message"} to talk to the room.' };
  }
}

/* ---- A minimal Lambda Invoke API in front of it ---- */

const FUNCTION_NAME = 'chat';

function reply(res, status, headers, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const m = /^\/2015-03-31\/functions\/([^/?]+)\/invocations(?:\?.*)?$/.exec(req.url);
  if (req.method !== 'POST' || !m) {
    reply(res, 404, { 'x-amzn-ErrorType': 'UnknownOperationException' }, '{"Type":"User","message":"Unknown operation"}');
    return;
  }
  if (decodeURIComponent(m[1]) !== FUNCTION_NAME) {
    reply(res, 404, { 'x-amzn-ErrorType': 'ResourceNotFoundException' }, JSON.stringify({ Type: 'User', message: `Function not found: ${m[1]}` }));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const result = await handler(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      reply(res, 200, { 'X-Amz-Executed-Version': '$LATEST' }, JSON.stringify(result ?? null));
    } catch (err) {
      log(`error: ${err.stack ?? err}`);
      reply(
        res,
        200,
        { 'X-Amz-Function-Error': 'Unhandled', 'X-Amz-Executed-Version': '$LATEST' },
        JSON.stringify({ errorMessage: String(err.message ?? err), errorType: err.name ?? 'Error' }),
      );
    }
  });
});

server.listen(PORT, HOST, () => {
  log(`chat function listening on http://${HOST}:${server.address().port}/2015-03-31/functions/${FUNCTION_NAME}/invocations, posting to ${ENDPOINT}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
