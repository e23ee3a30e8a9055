package io.driftwatch.http;

import io.driftwatch.log.Log;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's HTTP server (netty): metrics, health, the JSON API and the review page. Bound to
 * 127.0.0.1 by default because the API can freeze and kill. When bound elsewhere every /api
 * call needs the bearer token from {@code http.token_file}; /metrics, /healthz, /readyz and
 * the static review page stay open (the page's own API calls carry the token).
 */
public final class HttpServer implements AutoCloseable {
    /** Largest request body accepted; larger requests get 413. */
    public static final int MAX_BODY_BYTES = 1 << 20;

    private final Router router;
    private final byte[] token; // null: no token required
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private EventExecutorGroup handlers;
    private Channel channel;

    /** @param token bearer token required for /api, or null when none is required */
    public HttpServer(Router router, String token) {
        this.router = router;
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    /** Binds and returns the bound address (useful with port 0). */
    public InetSocketAddress start(InetSocketAddress listen) throws InterruptedException {
        boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        handlers = new DefaultEventExecutorGroup(2);
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 128)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(8192, 16384, 16384));
                        ch.pipeline().addLast(new HttpObjectAggregator(MAX_BODY_BYTES));
                        ch.pipeline().addLast(handlers, new Handler());
                    }
                });
        InetSocketAddress addr = listen.isUnresolved()
                ? new InetSocketAddress(listen.getHostString(), listen.getPort()) : listen;
        channel = b.bind(addr).sync().channel();
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        if (channel != null) channel.close().syncUninterruptibly();
        if (boss != null) boss.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        if (workers != null) workers.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        if (handlers != null) handlers.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    private boolean authorized(FullHttpRequest req) {
        if (token == null) return true;
        String h = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        byte[] given = h.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token); // constant time for equal lengths
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            Response resp;
            String caller = String.valueOf(ctx.channel().remoteAddress());
            if (!req.decoderResult().isSuccess()) {
                resp = Response.error(400, "malformed HTTP request");
            } else {
                QueryStringDecoder qs;
                try {
                    qs = new QueryStringDecoder(req.uri(), StandardCharsets.UTF_8, true, 64);
                    qs.path();
                } catch (IllegalArgumentException e) {
                    qs = null;
                }
                if (qs == null) {
                    resp = Response.error(400, "malformed request URI");
                } else if (qs.rawPath().startsWith("/api/") && !authorized(req)) {
                    Log.warn("api request refused: missing or wrong bearer token", "caller", caller, "uri", qs.rawPath());
                    resp = Response.error(401, "missing or wrong bearer token (see http.token_file)");
                } else {
                    if (token != null) caller = caller + " (token)";
                    resp = route(req, qs, caller);
                }
            }
            send(ctx, req, resp);
        }

        private Response route(FullHttpRequest req, QueryStringDecoder qs, String caller) {
            List<String> allowed = new ArrayList<>();
            String method = req.method().name();
            Route route = router.find("HEAD".equals(method) ? "GET" : method, qs.path(), allowed);
            if (route == null) {
                return allowed.isEmpty() ? Response.error(404, "no such endpoint: " + qs.path())
                        : Response.error(405, "method " + method + " not allowed; use " + String.join(", ", allowed));
            }
            try {
                String body = req.content().toString(StandardCharsets.UTF_8);
                Map<String, String> headers = new HashMap<>();
                for (Map.Entry<String, String> h : req.headers()) {
                    headers.putIfAbsent(h.getKey().toLowerCase(Locale.ROOT), h.getValue());
                }
                return route.handle(new Request(method, qs.path(), qs.parameters(), body, caller, qs.rawPath(),
                        Collections.unmodifiableMap(headers)));
            } catch (ApiException e) {
                return Response.error(e.status(), e.getMessage(), e.field());
            } catch (Exception e) {
                Log.error("http handler failed", "path", qs.path(), "error", e.toString());
                return Response.error(500, "internal error: " + e.getClass().getSimpleName());
            }
        }

        private void send(ChannelHandlerContext ctx, FullHttpRequest req, Response r) {
            boolean head = "HEAD".equals(req.method().name());
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()),
                    head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(r.body()));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
            resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, head ? 0 : r.body().length);
            resp.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            resp.headers().set("X-Content-Type-Options", "nosniff");
            for (Map.Entry<String, String> h : r.headers().entrySet()) resp.headers().set(h.getKey(), h.getValue());
            boolean keepAlive = HttpUtil.isKeepAlive(req) && r.status() < 400;
            if (keepAlive) {
                resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(resp);
            } else {
                resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
