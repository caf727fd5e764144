import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public, TokenService, type IssuedToken } from '@palimpsest/auth';
import { TokenRequestDto } from './dto/auth.dto.js';

/** Exchanges the shared secret for bearer tokens. */
@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(private readonly tokens: TokenService) {}

  /** Mints a token for a user; `scope: "read"` mints a read-only one. */
  @Public()
  @Post('token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange the shared secret for a bearer token' })
  token(@Body() body: TokenRequestDto): Promise<IssuedToken> {
    return this.tokens.issue(body.secret, body.user, body.scope ?? 'write');
  }
}
