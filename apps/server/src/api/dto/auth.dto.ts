import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

/** Body of POST /api/auth/token. */
export class TokenRequestDto {
  @ApiProperty({ description: 'The shared secret (PALIMPSEST_SECRET)' })
  @IsString()
  @MaxLength(1024)
  secret!: string;

  @ApiProperty({ example: 'alice' })
  @IsString()
  @MaxLength(128)
  user!: string;

  @ApiPropertyOptional({ enum: ['read', 'write'], description: '"read" mints a token that can never write' })
  @IsOptional()
  @IsIn(['read', 'write'])
  scope?: 'read' | 'write';
}
